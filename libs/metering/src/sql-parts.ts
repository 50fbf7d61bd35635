/**
 * SQL pieces shared by the builders (meter-query.ts, customer-period-usage.ts, top-customers.ts).
 * Every value goes through the injected `Quoter`; the only text written here is constant SQL.
 *
 * Both ClickHouse generations must accept the result (docs: clickhouse-compat.md): no query
 * parameters, no toStartOfInterval, no positional GROUP BY / ORDER BY, no `*OrZero` conversions
 * (18.16 lacks `toDecimal128OrZero`).
 */
import { type FieldIssue, ValidationFailedError } from '@tally/errors';
import { NUMERIC_VALUE_SOURCE, numberToPropertyText, toDecimalText, VALUE_SCALE } from './decimal';
import {
  type Filter,
  type FilterScalar,
  filterProperty,
  filterSchema,
  filterValues,
  QUANTITY,
  type Series,
} from './meter';
import type { Quoter, SqlText } from './quoter';
import { isValidTimeZone, timeZoneProblem } from './timezone';
import { fieldIssuesFromZod } from './zod-issues';

export const WINDOW_SIZES = ['minute', 'hour', 'day', 'month', 'none'] as const;
export type WindowSize = (typeof WINDOW_SIZES)[number];

/** Largest LIMIT a builder accepts; larger result sets belong in an export, not a query. */
export const MAX_LIMIT = 1_000_000;
/** Most customers one query may name in `customers`. */
export const MAX_CUSTOMERS = 10_000;

// Trailing zeros of a Decimal's fraction, and the point if nothing is left: '1.500000000000' -> '1.5',
// '100.000000000000' -> '100'. Only zeros after a point are touched, because modern ClickHouse may print
// Decimals without trailing zeros already (output_format_decimal_trailing_zeros) and '100' must stay '100'.
const TRAILING_ZEROS = '\\.0*$|(\\.[0-9]*[1-9])0+$';
const KEEP_SIGNIFICANT = '\\1';

/** `properties.value[indexOf(properties.key, '<name>')]`: the property's value, '' when absent. */
export function propertyValue<F extends SqlText>(q: Quoter<F>, name: string): F {
  return q.sql`properties.value[indexOf(properties.key, ${name})]`;
}

export function hasProperty<F extends SqlText>(q: Quoter<F>, name: string): F {
  return q.sql`has(properties.key, ${name})`;
}

/**
 * A property as Decimal(38, 12), '0' when it is not numeric. The `if` guard is needed although the
 * query also filters on `match()`: ClickHouse evaluates every argument of AND over the whole block,
 * and `toDecimal128` throws on 13 fraction digits.
 */
export function numericValue<F extends SqlText>(q: Quoter<F>, name: string): F {
  if (name === QUANTITY) return q.sql`quantity`;
  const p = propertyValue(q, name);
  return q.sql`toDecimal128(if(match(${p}, ${NUMERIC_VALUE_SOURCE}), ${p}, '0'), 12)`;
}

function isNumeric<F extends SqlText>(q: Quoter<F>, name: string): F {
  return q.sql`match(${propertyValue(q, name)}, ${NUMERIC_VALUE_SOURCE})`;
}

function decimalValue<F extends SqlText>(q: Quoter<F>, v: FilterScalar): F {
  const text = toDecimalText(v);
  // Filters are validated on the way in; reaching this means a caller skipped validation.
  if (text === undefined) throw new ValidationFailedError([invalidDecimal(v)]);
  return q.decimal(text, VALUE_SCALE);
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
export function filterCondition<F extends SqlText>(q: Quoter<F>, filter: Filter): F {
  const name = filterProperty(filter);
  const values = filterValues(filter);
  if (name === QUANTITY) return quantityCondition(q, filter.operator, values);
  const p = propertyValue(q, name);
  switch (filter.operator) {
    case 'exists':
      return hasProperty(q, name);
    case 'eq':
    case 'in': {
      const texts = values.map(propertyText);
      const test =
        texts.length === 1 && filter.operator === 'eq'
          ? q.sql`${p} = ${texts[0]}`
          : q.sql`${p} IN (${q.join(texts)})`;
      return texts.includes('') ? q.sql`(${hasProperty(q, name)} AND ${test})` : test;
    }
    case 'ne':
    case 'not_in': {
      const texts = values.map(propertyText);
      const test =
        texts.length === 1 && filter.operator === 'ne'
          ? q.sql`${p} != ${texts[0]}`
          : q.sql`${p} NOT IN (${q.join(texts)})`;
      return texts.includes('') ? q.sql`(NOT ${hasProperty(q, name)} OR ${test})` : test;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return q.sql`(${isNumeric(q, name)} AND ${compare(q, numericValue(q, name), filter.operator, decimalValue(q, values[0]))})`;
  }
}

function compare<F extends SqlText>(
  q: Quoter<F>,
  left: F,
  op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'ne',
  right: F,
): F {
  switch (op) {
    case 'gt':
      return q.sql`${left} > ${right}`;
    case 'gte':
      return q.sql`${left} >= ${right}`;
    case 'lt':
      return q.sql`${left} < ${right}`;
    case 'lte':
      return q.sql`${left} <= ${right}`;
    case 'eq':
      return q.sql`${left} = ${right}`;
    case 'ne':
      return q.sql`${left} != ${right}`;
  }
}

/** Filters on "quantity" compare the Decimal column numerically, whatever the operator. */
function quantityCondition<F extends SqlText>(
  q: Quoter<F>,
  operator: Filter['operator'],
  values: FilterScalar[],
): F {
  const column = q.sql`quantity`;
  switch (operator) {
    case 'exists':
      return q.sql`1`;
    case 'in':
      return q.sql`quantity IN (${q.join(values.map((v) => decimalValue(q, v)))})`;
    case 'not_in':
      return q.sql`quantity NOT IN (${q.join(values.map((v) => decimalValue(q, v)))})`;
    default:
      return compare(q, column, operator, decimalValue(q, values[0]));
  }
}

/**
 * The condition an event needs to have a value at all: numeric aggregations skip events whose
 * value property is absent or not a number; `unique_count` skips events without the property.
 */
export function valueGuard<F extends SqlText>(q: Quoter<F>, series: Series): F | undefined {
  const v = series.valueProperty;
  if (series.aggregation === 'count' || v === undefined || v === QUANTITY) return undefined;
  return series.aggregation === 'unique_count' ? hasProperty(q, v) : isNumeric(q, v);
}

/** The aggregate itself, unformatted (a number or Decimal): what top-N queries order by. */
export function aggregateExpression<F extends SqlText>(q: Quoter<F>, series: Series): F {
  const property = series.valueProperty ?? QUANTITY;
  switch (series.aggregation) {
    case 'count':
      return q.sql`count()`;
    case 'unique_count':
      return property === QUANTITY
        ? q.sql`uniqExact(quantity)`
        : q.sql`uniqExact(${propertyValue(q, property)})`;
    case 'sum':
      return q.sql`sum(${numericValue(q, property)})`;
    case 'max':
      return q.sql`max(${numericValue(q, property)})`;
    case 'min':
      return q.sql`min(${numericValue(q, property)})`;
    case 'latest':
      // The value of the last event by event time; the id breaks ties of events in the same millisecond.
      return q.sql`argMax(${numericValue(q, property)}, (ts, ts_ms, event_id))`;
    case 'avg': {
      // Exact: Decimal sum divided by the count, truncated to 12 decimals (no float avg()). greatest()
      // keeps an empty aggregate at 0 instead of a division by zero.
      const v = numericValue(q, property);
      return q.sql`sum(${v}) / greatest(count(), 1)`;
    }
  }
}

/** The aggregate as exact decimal text: `toString` with the Decimal's trailing zeros removed. */
export function aggregateText<F extends SqlText>(q: Quoter<F>, series: Series): F {
  const agg = aggregateExpression(q, series);
  if (series.aggregation === 'count' || series.aggregation === 'unique_count') return q.sql`toString(${agg})`;
  return trimDecimalText(q, q.sql`toString(${agg})`);
}

/** Decimal text without trailing fraction zeros (see TRAILING_ZEROS). */
export function trimDecimalText<F extends SqlText>(q: Quoter<F>, text: F): F {
  return q.sql`replaceRegexpOne(${text}, ${TRAILING_ZEROS}, ${KEEP_SIGNIFICANT})`;
}

/**
 * Start of the event's window as epoch seconds (UInt32), computed in `timeZone`. Months start on the
 * first local day (`toStartOfMonth` yields a Date, turned back into that day's first instant).
 */
export function windowStart<F extends SqlText>(
  q: Quoter<F>,
  window: Exclude<WindowSize, 'none'>,
  timeZone: string,
): F {
  switch (window) {
    case 'minute':
      return q.sql`toUInt32(toStartOfMinute(ts))`;
    case 'hour':
      return q.sql`toUInt32(toStartOfHour(ts, ${timeZone}))`;
    case 'day':
      return q.sql`toUInt32(toStartOfDay(ts, ${timeZone}))`;
    case 'month':
      return q.sql`toUInt32(toDateTime(toStartOfMonth(ts, ${timeZone}), ${timeZone}))`;
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
export function seriesConditions<F extends SqlText>(q: Quoter<F>, series: Series, scope: SeriesScope): F[] {
  const conditions: F[] = [
    q.sql`tenant = ${scope.tenant}`,
    q.sql`event_type IN (${q.join(series.eventTypes)})`,
    q.sql`ts >= ${scope.from}`,
    q.sql`ts < ${scope.to}`,
  ];
  if (scope.customers !== undefined) conditions.push(q.sql`customer IN (${q.join(scope.customers)})`);
  for (const f of [...series.filters, ...(scope.extraFilters ?? [])]) conditions.push(filterCondition(q, f));
  const guard = valueGuard(q, series);
  if (guard) conditions.push(guard);
  return conditions;
}

export function eventsTable<F extends SqlText>(q: Quoter<F>, database: string): F {
  return q.identifier(database, 'events');
}

/** Collects parameter problems so that a caller learns about every bad parameter at once. */
export class ParamIssues {
  readonly list: FieldIssue[] = [];

  add(field: string, code: string, message: string): void {
    this.list.push({ field, code, message });
  }

  throwIfAny(message = 'Invalid query parameters'): void {
    if (this.list.length) throw new ValidationFailedError(this.list, message);
  }

  /** `from`/`to` are valid Dates, whole seconds (the table's ts has second precision), from < to. */
  range(from: Date, to: Date): void {
    const check = (d: Date, field: string) => {
      if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
        this.add(field, 'INVALID_TIME', `${field} must be a valid date`);
        return false;
      }
      if (d.getTime() % 1000 !== 0) {
        this.add(
          field,
          'TIME_NOT_WHOLE_SECOND',
          `${field} must be a whole second (events are stored per second plus ms)`,
        );
        return false;
      }
      return true;
    };
    if (check(from, 'from') && check(to, 'to') && from.getTime() >= to.getTime()) {
      this.add('to', 'EMPTY_RANGE', 'to must be after from');
    }
  }

  timeZone(tz: string, field = 'timezone'): void {
    if (!isValidTimeZone(tz)) this.add(field, 'INVALID_TIMEZONE', timeZoneProblem(String(tz)));
  }

  tenant(tenant: string): void {
    if (typeof tenant !== 'string' || tenant.length === 0)
      this.add('tenant', 'REQUIRED', 'tenant is required');
  }

  limit(limit: number): void {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      this.add('limit', 'OUT_OF_RANGE', `limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
  }

  customers(customers: readonly string[] | undefined): void {
    if (customers === undefined) return;
    if (customers.length === 0)
      this.add('customers', 'TOO_SHORT', 'customers, when given, must name at least one customer');
    if (customers.length > MAX_CUSTOMERS)
      this.add('customers', 'TOO_LONG', `at most ${MAX_CUSTOMERS} customers`);
    customers.forEach((c, i) => {
      if (typeof c !== 'string') this.add(`customers[${i}]`, 'INVALID_TYPE', 'customer ids are strings');
    });
  }

  filters(filters: readonly unknown[] | undefined, field = 'extraFilters'): void {
    filters?.forEach((f, i) => {
      const r = filterSchema.safeParse(f);
      if (!r.success) this.list.push(...fieldIssuesFromZod(r.error, `${field}[${i}]`));
    });
  }
}
