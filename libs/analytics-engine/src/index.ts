// Public API of @tally/analytics-engine: Cloudflare Workers Analytics Engine compatibility (data
// points, equitable sampling, the SQL API dialect). Pure: no I/O, no clock, no driver, no SQL text: a
// parsed statement becomes ClickHouse SQL in @tally/clickhouse (`sql/analytics-query.ts`).
export { DATAPOINT_DEFAULTS, DATAPOINT_LIMITS, DataPointIssueCode } from './codes';
export {
  BLOB_COLUMNS,
  DATAPOINT_COLUMNS,
  DOUBLE_COLUMNS,
  assertDatasetName,
  formatDateTimeUtc,
  isValidDatasetName,
  normalizeDataPoints,
  toStorageRows,
  type BlobColumn,
  type DataPointInput,
  type DataPointRow,
  type DataPointStorageRow,
  type DoubleColumn,
  type NormalizeDataPointsOptions,
} from './datapoints';
export { EquitableSampler, seededRandom, type EquitableSamplerOptions, type SampledPoint } from './sampler';
export type {
  BinaryOperator,
  Expr,
  IntervalUnit,
  OrderItem,
  OutputFormat,
  SelectItem,
  SelectStatement,
  ShowTablesStatement,
  Statement,
  TableRef,
} from './sql/ast';
export {
  AnalyticsSqlError,
  AnalyticsSqlErrorCode,
  isAnalyticsSqlError,
  type SourcePosition,
} from './sql/errors';
export { EMITTED_FUNCTION_NAMES, FUNCTIONS, type FunctionSpec } from './sql/functions';
export { parseAnalyticsSql, type ParseOptions } from './sql/parser';
export { tokenize, type Token, type TokenType } from './sql/tokenizer';
