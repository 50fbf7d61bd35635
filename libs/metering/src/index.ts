/**
 * `@tally/metering`: what a meter is, what a meter query asks for, and how its usage is computed as a
 * pure in-memory reference. No I/O and no SQL: the ClickHouse queries of a meter are built in
 * `@tally/clickhouse` (`libs/clickhouse/src/sql/`).
 */
export {
  AGGREGATIONS,
  EVENT_TYPE_MAX_LENGTH,
  FILTER_OPERATORS,
  METER_KEY_PATTERN,
  PROPERTY_NAME_MAX_LENGTH,
  QUANTITY,
  allSeries,
  filterProperty,
  filterSchema,
  filterValues,
  meterDefinitionSchema,
  meterDefinitionShape,
  meterProfileSchema,
  parseMeterDefinition,
  refineMeterDefinition,
  resolveSeries,
  type Aggregation,
  type Filter,
  type FilterOperator,
  type FilterScalar,
  type MeterDefinition,
  type MeterDefinitionInput,
  type MeterProfile,
  type Series,
} from './meter';
export {
  MAX_CUSTOMERS,
  MAX_LIMIT,
  ParamIssues,
  WINDOW_SIZES,
  validateMeterQueryParams,
  type MeterQueryParams,
  type MeterRow,
  type WindowSize,
} from './query-params';
export {
  aggregateInMemory,
  compareBytes,
  matchesFilter,
  meterRowsInMemory,
  type MeterEvent,
} from './aggregate-in-memory';
export { startOfLocalDate, utcOffsetSeconds, windowStartOf } from './time-windows';
export { isValidTimeZone, timeZoneProblem } from './timezone';
export {
  D,
  NUMERIC_VALUE,
  NUMERIC_VALUE_SOURCE,
  VALUE_SCALE,
  numberToPropertyText,
  toDecimalText,
  type Dec,
} from './meter-value';
export { fieldIssuesFromZod, fieldPath } from './zod-issues';
