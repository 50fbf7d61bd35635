export type { EventFormat, NormalizedBatch, NormalizeOptions, UsageEvent } from './types';
export { EVENT_LIMITS, EventIssueCode, NORMALIZE_DEFAULTS } from './codes';
export {
  detectEventFormat,
  detectFormat,
  formatForContentType,
  normalizeBatch,
  type FormatDetection,
} from './normalize';
export {
  EVENT_FIELD_COLUMNS,
  EVENT_FIELDS,
  EVENT_FLAG_BITS,
  EVENT_TUPLE_FIELDS,
  FINGERPRINT_FIELDS,
  type EventFieldDefinition,
  type EventFlag,
  type StoredEventField,
} from './event-fields';
export {
  eventFingerprint,
  findDuplicateIdsInBatch,
  fingerprintInput,
  Utf8Writer,
  writeFingerprintInput,
} from './fingerprint';
export {
  canonicalDecimalNumber,
  canonicalDecimalString,
  canonicalQuantity,
  DECIMAL_IMPRECISE,
  DECIMAL_INVALID,
  DECIMAL_OUT_OF_RANGE,
} from './quantity-text';
export type { CanonicalQuantityResult, DecimalError, QuantityErrorCode } from './quantity-text';
export { parseRfc3339, parseTimestamp, TS_MAX_EXCLUSIVE_MS, TS_MIN_MS } from './timestamp';
export { uuidV7 } from './uuid7';
