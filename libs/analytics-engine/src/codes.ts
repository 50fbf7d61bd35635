/**
 * Stable machine codes of data point validation issues (the `code` of each `FieldIssue` in a 422
 * VALIDATION_FAILED response), shaped like the event codes of `@tally/event-schema`. Never rename one:
 * clients branch on them. docs/analytics-engine.md lists them.
 */
export const DataPointIssueCode = {
  // request
  BODY_INVALID: 'BODY_INVALID',
  BATCH_EMPTY: 'BATCH_EMPTY',
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  DATASET_INVALID: 'DATASET_INVALID',
  // one data point
  POINT_INVALID: 'POINT_INVALID',
  FIELD_UNKNOWN: 'FIELD_UNKNOWN',
  ID_INVALID: 'ID_INVALID',
  TIMESTAMP_INVALID: 'TIMESTAMP_INVALID',
  TIMESTAMP_IN_FUTURE: 'TIMESTAMP_IN_FUTURE',
  TIMESTAMP_TOO_OLD: 'TIMESTAMP_TOO_OLD',
  INDEXES_INVALID: 'INDEXES_INVALID',
  TOO_MANY_INDEXES: 'TOO_MANY_INDEXES',
  INDEX_INVALID: 'INDEX_INVALID',
  INDEX_TOO_LONG: 'INDEX_TOO_LONG',
  BLOBS_INVALID: 'BLOBS_INVALID',
  TOO_MANY_BLOBS: 'TOO_MANY_BLOBS',
  BLOB_INVALID: 'BLOB_INVALID',
  BLOBS_TOO_LARGE: 'BLOBS_TOO_LARGE',
  DOUBLES_INVALID: 'DOUBLES_INVALID',
  TOO_MANY_DOUBLES: 'TOO_MANY_DOUBLES',
  DOUBLE_INVALID: 'DOUBLE_INVALID',
  INVALID_CHARACTER: 'INVALID_CHARACTER',
} as const;

export type DataPointIssueCode = (typeof DataPointIssueCode)[keyof typeof DataPointIssueCode];

/** Cloudflare Analytics Engine's limits, which Tally keeps so that Workers code moves over unchanged. */
export const DATAPOINT_LIMITS = {
  maxIndexes: 1,
  indexMaxBytes: 96,
  maxBlobs: 20,
  /** Sum of the UTF-8 sizes of all blobs of one data point. */
  blobsMaxBytes: 16 * 1024,
  maxDoubles: 20,
  maxPointsPerRequest: 250,
  idMaxLength: 128,
  datasetMaxLength: 64,
} as const;

export const DATAPOINT_DEFAULTS = {
  /** A timestamp further ahead of the receipt time than this is refused (clock skew allowance). */
  maxFutureMs: 5 * 60_000,
  /** A timestamp older than this is refused, as for events. */
  latenessLimitMs: 35 * 24 * 3_600_000,
} as const;
