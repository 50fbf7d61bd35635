import { TallyValidationError } from './errors';
import type { DataPointInput, TallyDataPoint, TallyEvent, UsageEventInput } from './types';

/*
 * Structural checks only: the gateway stays the authority (lateness, future limit, digit counts,
 * per-tenant rules). What is checked here is what a caller gets wrong by mistake (a missing customer,
 * a NaN quantity, a nested dimension), because one such event would get its whole batch rejected.
 */

const ID = /^[\x21-\x7e]{1,128}$/;
const PROPERTY_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const DECIMAL = /^\+?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATASET = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$/;
/** 2106-01-01T00:00:00Z, the first instant the gateway (ClickHouse DateTime) refuses. */
const TS_MAX_EXCLUSIVE_MS = 4_291_747_200_000;

function fail(code: string, field: string, message: string): never {
  throw new TallyValidationError(code, field, `${field} ${message}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

function requiredString(
  v: unknown,
  field: string,
  maxLength: number,
  missing: string,
  invalid: string,
): string {
  if (v === undefined || v === null || v === '') fail(missing, field, 'is required');
  if (typeof v !== 'string') fail(invalid, field, `must be a string, got ${typeof v}`);
  if (v.length > maxLength) fail(invalid, field, `must be at most ${maxLength} characters`);
  return v;
}

function quantity(v: unknown): number | string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail('QUANTITY_INVALID', 'quantity', 'must be a finite number');
    if (v < 0) fail('QUANTITY_NEGATIVE', 'quantity', 'must not be negative');
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
      fail('QUANTITY_OUT_OF_RANGE', 'quantity', 'is beyond ±9007199254740991; pass it as a decimal string');
    }
    return v;
  }
  if (typeof v === 'string') {
    const negative = v.startsWith('-');
    const digits = negative ? v.slice(1) : v;
    if (!DECIMAL.test(digits))
      fail('QUANTITY_INVALID', 'quantity', 'must be a decimal string such as "12.5"');
    if (negative && Number(digits) !== 0) fail('QUANTITY_NEGATIVE', 'quantity', 'must not be negative');
    return v;
  }
  return fail('QUANTITY_INVALID', 'quantity', `must be a number or a decimal string, got ${typeof v}`);
}

function timestamp(v: unknown): number | string {
  if (v instanceof Date) v = v.getTime();
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0 || v >= TS_MAX_EXCLUSIVE_MS) {
      fail('TIMESTAMP_INVALID', 'timestamp', 'must be integer epoch milliseconds between 1970 and 2105');
    }
    return v;
  }
  if (typeof v === 'string' && v !== '') return v;
  return fail('TIMESTAMP_INVALID', 'timestamp', 'must be epoch milliseconds, an RFC 3339 string or a Date');
}

function dimensions(v: unknown): Record<string, string | number | boolean> {
  if (!isPlainObject(v)) return fail('PROPERTIES_INVALID', 'dimensions', 'must be an object of strings');
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(v)) {
    if (!PROPERTY_KEY.test(key)) {
      fail(
        'PROPERTY_KEY_INVALID',
        `dimensions.${key}`,
        'is not a valid key (^[A-Za-z_][A-Za-z0-9_.-]*$, ≤128)',
      );
    }
    if (typeof value === 'string' || typeof value === 'boolean') out[key] = value;
    else if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
    else if (value !== undefined) {
      fail('PROPERTY_VALUE_INVALID', `dimensions.${key}`, 'must be a string, a finite number or a boolean');
    }
  }
  return out;
}

function metadata(v: unknown): NonNullable<TallyEvent['metadata']> {
  if (!isPlainObject(v)) return fail('METADATA_INVALID', 'metadata', 'must be an object');
  const out: NonNullable<TallyEvent['metadata']> = {};
  for (const key of ['source', 'version', 'requestId'] as const) {
    const value = v[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') fail('METADATA_INVALID', `metadata.${key}`, 'must be a string');
    out[key] = value;
  }
  return out;
}

/**
 * The wire event for `input`, with the idempotency key and timestamp fixed now (at record time), so
 * that every attempt to deliver it carries the same values and the gateway can recognise a retry.
 * Copies what it keeps: a caller mutating its objects after `record()` changes nothing.
 */
export function toTallyEvent(input: UsageEventInput, nowMs: number, newId: () => string): TallyEvent {
  if (!isPlainObject(input)) fail('EVENT_INVALID', 'event', 'must be an object');
  const customerId = requiredString(
    input.customerId,
    'customerId',
    256,
    'CUSTOMER_MISSING',
    'CUSTOMER_INVALID',
  );
  const metricName = requiredString(
    input.metricName,
    'metricName',
    128,
    'EVENT_TYPE_MISSING',
    'EVENT_TYPE_INVALID',
  );
  let eventId: string;
  if (input.eventId === undefined || input.eventId === null) eventId = newId();
  else if (typeof input.eventId === 'string' && ID.test(input.eventId)) eventId = input.eventId;
  else eventId = fail('ID_INVALID', 'eventId', 'must be 1-128 printable ASCII characters without spaces');

  const event: TallyEvent = {
    eventId,
    timestamp: input.timestamp === undefined || input.timestamp === null ? nowMs : timestamp(input.timestamp),
    customerId,
    metricName,
  };
  if (input.quantity !== undefined && input.quantity !== null) event.quantity = quantity(input.quantity);
  if (input.dimensions !== undefined && input.dimensions !== null)
    event.dimensions = dimensions(input.dimensions);
  if (input.metadata !== undefined && input.metadata !== null) event.metadata = metadata(input.metadata);
  return event;
}

/** Analytics Engine's own limits, checked the same way so a point fails here rather than in a batch. */
export function toTallyDataPoint(
  input: DataPointInput | undefined,
  nowMs: number,
  newId: () => string,
): TallyDataPoint {
  const p: DataPointInput = input ?? {};
  if (!isPlainObject(p)) fail('POINT_INVALID', 'point', 'must be an object');
  const indexes = p.indexes ?? [];
  if (!Array.isArray(indexes) || indexes.length > 1)
    fail('INDEXES_INVALID', 'indexes', 'must be an array of at most 1 string');
  for (const index of indexes) {
    if (typeof index !== 'string') fail('INDEXES_INVALID', 'indexes', 'must hold strings');
    if (Buffer.byteLength(index) > 96) fail('INDEXES_INVALID', 'indexes', 'must be at most 96 bytes');
  }
  const blobs = blobValues(p.blobs);
  if (!Array.isArray(blobs) || blobs.length > 20)
    fail('BLOBS_INVALID', 'blobs', 'must be an array of at most 20 strings');
  let blobBytes = 0;
  for (const blob of blobs) {
    if (blob !== null && typeof blob !== 'string')
      fail('BLOBS_INVALID', 'blobs', 'must hold strings or null');
    blobBytes += blob === null ? 0 : Buffer.byteLength(blob);
  }
  if (blobBytes > 16_384) fail('BLOBS_INVALID', 'blobs', 'must total at most 16 KiB');
  const doubles = p.doubles ?? [];
  if (!Array.isArray(doubles) || doubles.length > 20)
    fail('DOUBLES_INVALID', 'doubles', 'must be an array of at most 20 numbers');
  for (const d of doubles) {
    if (typeof d !== 'number' || !Number.isFinite(d))
      fail('DOUBLES_INVALID', 'doubles', 'must hold finite numbers');
  }
  return { id: newId(), timestamp: nowMs, indexes: [...indexes], blobs: [...blobs], doubles: [...doubles] };
}

/**
 * Blobs as an array, or as an object whose values are taken in the order they were written, as
 * Cloudflare's first usage-billing example does (`blobs: { customer_id, request_endpoint }`). Numeric
 * keys are refused: JavaScript enumerates them first, whatever order they were written in.
 */
function blobValues(blobs: unknown): unknown {
  if (blobs === undefined || blobs === null) return [];
  const proto = isPlainObject(blobs) ? Object.getPrototypeOf(blobs) : undefined;
  if (proto !== Object.prototype && proto !== null) return blobs; // an array, or refused as one
  if (Object.keys(blobs).some((k) => /^(0|[1-9]\d*)$/.test(k)))
    fail('BLOBS_INVALID', 'blobs', 'given as an object must not have numeric keys (send an array)');
  return Object.values(blobs);
}

/** A data set name is both a URL path segment and a NATS subject token. */
export function assertDatasetName(name: string): void {
  if (typeof name !== 'string' || !DATASET.test(name)) {
    fail('DATASET_INVALID', 'dataset', `'${String(name)}' must be 1-128 letters, digits, '_' or '-'`);
  }
}
