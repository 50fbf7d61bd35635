/**
 * SQL pieces shared by the builders (meter-query.ts, customer-period-usage.ts, top-customers.ts).
 * Every value goes through `quote.ts`; the only text written here is constant SQL.
 *
 * Both ClickHouse generations must accept the result (docs: clickhouse-compat.md): no query
 * parameters, no toStartOfInterval, no positional GROUP BY / ORDER BY, no `*OrZero` conversions
 * (18.16 lacks `toDecimal128OrZero`).
 */
import { ValidationFailedError, type FieldIssue } from '@tally/errors';
import {
  NUMERIC_VALUE_SOURCE,
  QUANTITY,
  VALUE_SCALE,
  filterProperty,
  filterValues,
  numberToPropertyText,
  toDecimalText,
  type Filter,
  type FilterScalar,
  type Series,
  type WindowSize,
} from '@tally/metering';
import { decimal, join, sql, identifier, type SqlFragment } from './quote';

// Trailing zeros of a Decimal's fraction, and the point if nothing is left: '1.500000000000' -> '1.5',
// '100.000000000000' -> '100'. Only zeros after a point are touched, because modern ClickHouse may print
// Decimals without trailing zeros already (output_format_decimal_trailing_zeros) and '100' must stay '100'.
const TRAILING_ZEROS = '\\.0*$|(\\.[0-9]*[1-9])0+$';
const KEEP_SIGNIFICANT = '\\1';

/** `properties.value[indexOf(properties.key, '<name>')]`: the property's value, '' when absent. */
export function propertyValue(name: string): SqlFragment {
  return sql`properties.value[indexOf(properties.key, ${name})]`;
}

export function hasProperty(name: string): SqlFragment {
  return sql`has(properties.key, ${name})`;
}

/**
 * A property as Decimal(38, 12), '0' when it is not numeric. The `if` guard is needed although the
 * query also filters on `match()`: ClickHouse evaluates every argument of AND over the whole block,
 * and `toDecimal128` throws on 13 fraction digits.
 */
export function numericValue(name: string): SqlFragment {
  if (name === QUANTITY) return sql`quantity`;
  const p = propertyValue(name);
  return sql`toDecimal128(if(match(${p}, ${NUMERIC_VALUE_SOURCE}), ${p}, '0'), 12)`;
}

function isNumeric(name: string): SqlFragment {
  return sql`match(${propertyValue(name)}, ${NUMERIC_VALUE_SOURCE})`;
}

function decimalValue(v: FilterScalar): SqlFragment {
  const text = toDecimalText(v);
  // Filters are validated on the way in; reaching this means a caller skipped validation.
  if (text === undefined) throw new ValidationFailedError([invalidDecimal(v)]);
  return decimal(text, VALUE_SCALE);
}

function invalidDecimal(v: unknown): FieldIssue {
  return {
    field: 'filters',
    code: 'INVALID_DECIMAL',
    message: `'${String(v)}' is not a decimal fitting Decimal(38, 12)`,
  };
}

/** How string operators see a filter value: strings as given, numbers as ingestion stores them. */
function propertyText(v: FilterScalar): string {
  return typeof v === 'number' ? numberToPropertyText(v) : v;
}

/**
 * One filter as a boolean SQL expression (self-contained: compound ones are parenthesised).
 *
 * A missing property has no value: `eq`, `in` and the numeric comparisons are false for it, `ne` and
 * `not_in` are true, `exists` is false. Since an absent property reads as '', comparing with '' needs
 * `has()` to tell "absent" from "present and empty"; other values do not.
 */
export function filterCondition(filter: Filter): SqlFragment {
  const name = filterProperty(filter);
  const values = filterValues(filter);
  if (name === QUANTITY) return quantityCondition(filter.operator, values);
  const p = propertyValue(name);
  switch (filter.operator) {
    case 'exists':
      return hasProperty(name);
    case 'eq':
    case 'in': {
      const texts = values.map(propertyText);
      const test =
        texts.length === 1 && filter.operator === 'eq'
          ? sql`${p} = ${texts[0]}`
          : sql`${p} IN (${join(texts)})`;
      return texts.includes('') ? sql`(${hasProperty(name)} AND ${test})` : test;
    }
    case 'ne':
    case 'not_in': {
      const texts = values.map(propertyText);
      const test =
        texts.length === 1 && filter.operator === 'ne'
          ? sql`${p} != ${texts[0]}`
          : sql`${p} NOT IN (${join(texts)})`;
      return texts.includes('') ? sql`(NOT ${hasProperty(name)} OR ${test})` : test;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return sql`(${isNumeric(name)} AND ${compare(numericValue(name), filter.operator, decimalValue(values[0]))})`;
  }
}

function compare(
  left: SqlFragment,
  op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'ne',
  right: SqlFragment,
): SqlFragment {
  switch (op) {
    case 'gt':
      return sql`${left} > ${right}`;
    case 'gte':
      return sql`${left} >= ${right}`;
    case 'lt':
      return sql`${left} < ${right}`;
    case 'lte':
      return sql`${left} <= ${right}`;
    case 'eq':
      return sql`${left} = ${right}`;
    case 'ne':
      return sql`${left} != ${right}`;
  }
}

/** Filters on "quantity" compare the Decimal column numerically, whatever the operator. */
function quantityCondition(operator: Filter['operator'], values: FilterScalar[]): SqlFragment {
  const column = sql`quantity`;
  switch (operator) {
    case 'exists':
      return sql`1`;
    case 'in':
      return sql`quantity IN (${join(values.map((v) => decimalValue(v)))})`;
    case 'not_in':
      return sql`quantity NOT IN (${join(values.map((v) => decimalValue(v)))})`;
    default:
      return compare(column, operator, decimalValue(values[0]));
  }
}

/**
 * The condition an event needs to have a value at all: numeric aggregations skip events whose
 * value property is absent or not a number; `unique_count` skips events without the property.
 */
export function valueGuard(series: Series): SqlFragment | undefined {
  const v = series.valueProperty;
  if (series.aggregation === 'count' || v === undefined || v === QUANTITY) return undefined;
  return series.aggregation === 'unique_count' ? hasProperty(v) : isNumeric(v);
}

/** The aggregate itself, unformatted (a number or Decimal): what top-N queries order by. */
export function aggregateExpression(series: Series): SqlFragment {
  const property = series.valueProperty ?? QUANTITY;
  switch (series.aggregation) {
    case 'count':
      return sql`count()`;
    case 'unique_count':
      return property === QUANTITY ? sql`uniqExact(quantity)` : sql`uniqExact(${propertyValue(property)})`;
    case 'sum':
      return sql`sum(${numericValue(property)})`;
    case 'max':
      return sql`max(${numericValue(property)})`;
    case 'min':
      return sql`min(${numericValue(property)})`;
    case 'latest':
      // The value of the last event by event time; the id breaks ties of events in the same millisecond.
      return sql`argMax(${numericValue(property)}, (ts, ts_ms, event_id))`;
    case 'avg': {
      // Exact: Decimal sum divided by the count, truncated to 12 decimals (no float avg()). greatest()
      // keeps an empty aggregate at 0 instead of a division by zero.
      const v = numericValue(property);
      return sql`sum(${v}) / greatest(count(), 1)`;
    }
  }
}

/** The aggregate as exact decimal text: `toString` with the Decimal's trailing zeros removed. */
export function aggregateText(series: Series): SqlFragment {
  const agg = aggregateExpression(series);
  if (series.aggregation === 'count' || series.aggregation === 'unique_count') return sql`toString(${agg})`;
  return trimDecimalText(sql`toString(${agg})`);
}

/** Decimal text without trailing fraction zeros (see TRAILING_ZEROS). */
export function trimDecimalText(text: SqlFragment): SqlFragment {
  return sql`replaceRegexpOne(${text}, ${TRAILING_ZEROS}, ${KEEP_SIGNIFICANT})`;
}

/**
 * Start of the event's window as epoch seconds (UInt32), computed in `timeZone`. Months start on the
 * first local day (`toStartOfMonth` yields a Date, turned back into that day's first instant).
 */
export function windowStart(window: Exclude<WindowSize, 'none'>, timeZone: string): SqlFragment {
  switch (window) {
    case 'minute':
      return sql`toUInt32(toStartOfMinute(ts))`;
    case 'hour':
      return sql`toUInt32(toStartOfHour(ts, ${timeZone}))`;
    case 'day':
      return sql`toUInt32(toStartOfDay(ts, ${timeZone}))`;
    case 'month':
      return sql`toUInt32(toDateTime(toStartOfMonth(ts, ${timeZone}), ${timeZone}))`;
  }
}

export interface SeriesScope {
  tenant: string;
  from: Date;
  to: Date;
  customers?: readonly string[];
  extraFilters?: readonly Filter[];
}

/** The WHERE conditions of one series: tenant, event types, time range, customers, filters, value guard. */
export function seriesConditions(series: Series, scope: SeriesScope): SqlFragment[] {
  const conditions: SqlFragment[] = [
    sql`tenant = ${scope.tenant}`,
    sql`event_type IN (${join(series.eventTypes)})`,
    sql`ts >= ${scope.from}`,
    sql`ts < ${scope.to}`,
  ];
  if (scope.customers !== undefined) conditions.push(sql`customer IN (${join(scope.customers)})`);
  for (const f of [...series.filters, ...(scope.extraFilters ?? [])]) conditions.push(filterCondition(f));
  const guard = valueGuard(series);
  if (guard) conditions.push(guard);
  return conditions;
}

export function eventsTable(database: string): SqlFragment {
  return identifier(database, 'events');
}
