/**
 * `@tally/metering`: what a meter is, and how its usage is computed, as ClickHouse SQL and as a pure
 * in-memory reference. No I/O: the SQL builders receive the quoting functions of `@tally/clickhouse`
 * (see `Quoter`) and return its `SqlFragment`; the caller runs them.
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
export type { Quoter, SqlText, SqlValue } from './quoter';
export { MAX_CUSTOMERS, MAX_LIMIT, WINDOW_SIZES, trimDecimalText, type WindowSize } from './sql-parts';
export { meterQuery, validateMeterQueryParams, type MeterQueryParams, type MeterRow } from './meter-query';
export {
  MAX_PERIOD_SERIES,
  customerPeriodUsage,
  type CustomerPeriodUsageParams,
  type PeriodUsageRow,
} from './customer-period-usage';
export { topCustomers, type TopCustomerRow, type TopCustomersParams } from './top-customers';
export {
  aggregateInMemory,
  compareBytes,
  matchesFilter,
  meterRowsInMemory,
  type MeterEvent,
} from './aggregate-in-memory';
export { startOfLocalDate, utcOffsetSeconds, windowStartOf } from './time-windows';
export { isValidTimeZone, timeZoneProblem } from './timezone';
export { NUMERIC_VALUE, NUMERIC_VALUE_SOURCE, VALUE_SCALE, toDecimalText } from './decimal';
export { fieldIssuesFromZod, fieldPath } from './zod-issues';
