/**
 * Stable machine codes of event validation issues (the `code` of each `FieldIssue` in a 422
 * VALIDATION_FAILED response). Never rename one: clients branch on them. docs/events.md lists them.
 */
export const EventIssueCode = {
  // request body
  BODY_INVALID: 'BODY_INVALID',
  BATCH_EMPTY: 'BATCH_EMPTY',
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  // one event
  EVENT_INVALID: 'EVENT_INVALID',
  ID_MISSING: 'ID_MISSING',
  ID_INVALID: 'ID_INVALID',
  TIMESTAMP_INVALID: 'TIMESTAMP_INVALID',
  TIMESTAMP_IN_FUTURE: 'TIMESTAMP_IN_FUTURE',
  TIMESTAMP_TOO_OLD: 'TIMESTAMP_TOO_OLD',
  QUANTITY_INVALID: 'QUANTITY_INVALID',
  QUANTITY_OUT_OF_RANGE: 'QUANTITY_OUT_OF_RANGE',
  QUANTITY_NEGATIVE: 'QUANTITY_NEGATIVE',
  CUSTOMER_MISSING: 'CUSTOMER_MISSING',
  CUSTOMER_INVALID: 'CUSTOMER_INVALID',
  EVENT_TYPE_MISSING: 'EVENT_TYPE_MISSING',
  EVENT_TYPE_INVALID: 'EVENT_TYPE_INVALID',
  INVALID_CHARACTER: 'INVALID_CHARACTER',
  PROPERTIES_INVALID: 'PROPERTIES_INVALID',
  PROPERTY_KEY_INVALID: 'PROPERTY_KEY_INVALID',
  PROPERTY_VALUE_INVALID: 'PROPERTY_VALUE_INVALID',
  TOO_MANY_PROPERTIES: 'TOO_MANY_PROPERTIES',
  METADATA_INVALID: 'METADATA_INVALID',
  // CloudEvents
  SPECVERSION_UNSUPPORTED: 'SPECVERSION_UNSUPPORTED',
  SOURCE_MISSING: 'SOURCE_MISSING',
  SOURCE_INVALID: 'SOURCE_INVALID',
  DATA_INVALID: 'DATA_INVALID',
  DATA_NESTED_UNSUPPORTED: 'DATA_NESTED_UNSUPPORTED',
} as const;

export type EventIssueCode = (typeof EventIssueCode)[keyof typeof EventIssueCode];

/** Limits enforced on every event (documented in docs/events.md). */
export const EVENT_LIMITS = {
  idMaxLength: 128,
  customerMaxLength: 256,
  typeMaxLength: 128,
  sourceMaxLength: 256,
  schemaVersionMaxLength: 64,
  requestIdMaxLength: 256,
  propertyKeyMaxLength: 128,
  propertyValueMaxLength: 4096,
  maxProperties: 100,
  /** ClickHouse Decimal(38,12). */
  quantityMaxIntegerDigits: 26,
  quantityMaxFractionDigits: 12,
} as const;

export const NORMALIZE_DEFAULTS = {
  maxFutureMs: 5 * 60_000,
  latenessLimitMs: 35 * 24 * 3_600_000,
  billingrailsCustomerProperty: 'billingrails_account_id',
  maxBatch: 1000,
} as const;
