/**
 * The reference implementation: the same answers as the SQL builders, computed from event objects with
 * decimal.js. Integration tests elsewhere compare ClickHouse's results against it, so every rule here
 * mirrors one in libs/clickhouse/src/sql/meter-sql-parts.ts (which events carry a value, how filters
 * treat absent properties, how `latest` breaks ties, how `avg` truncates, how empty aggregates read).
 */
import { decimalText } from '@tally/pricing';
import {
  D,
  type Dec,
  NUMERIC_VALUE,
  numberToPropertyText,
  toDecimalText,
  VALUE_SCALE,
} from './meter-value';
import {
  type Filter,
  type FilterScalar,
  filterProperty,
  filterValues,
  type MeterDefinition,
  QUANTITY,
  resolveSeries,
  type Series,
} from './meter';
import { type MeterQueryParams, type MeterRow, validateMeterQueryParams } from './query-params';
import { windowStartOf } from './time-windows';

/** What the reference needs of an event; `@tally/event-schema`'s `UsageEvent` fits. */
export interface MeterEvent {
  /** Event id (idempotency key). */
  id: string;
  /** Event time, epoch milliseconds. */
  ts: number;
  customer: string;
  /** Event type. */
  type: string;
  /** Decimal text, at most 12 fraction digits (it is stored as Decimal(38, 12)). */
  quantity: string;
  properties: Readonly<Record<string, string>>;
}

function property(event: MeterEvent, name: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(event.properties, name) ? event.properties[name] : undefined;
}

function propertyText(v: FilterScalar): string {
  return typeof v === 'number' ? numberToPropertyText(v) : v;
}

function filterDecimal(v: FilterScalar): Dec {
  const text = toDecimalText(v);
  if (text === undefined)
    throw new Error(`filter value '${String(v)}' is not a decimal; validate meters first`);
  return new D(text);
}

/** The event's numeric value of `name` ("quantity" = the quantity column), undefined when it has none. */
function numericValue(event: MeterEvent, name: string): Dec | undefined {
  if (name === QUANTITY) return new D(event.quantity);
  const v = property(event, name);
  return v !== undefined && NUMERIC_VALUE.test(v) ? new D(v) : undefined;
}

/** Whether an event passes one filter: the SQL's `filterCondition`, evaluated on the object. */
export function matchesFilter(event: MeterEvent, filter: Filter): boolean {
  const name = filterProperty(filter);
  const values = filterValues(filter);
  if (name === QUANTITY) {
    const q = new D(event.quantity);
    switch (filter.operator) {
      case 'exists':
        return true;
      case 'in':
        return values.some((v) => q.eq(filterDecimal(v)));
      case 'not_in':
        return !values.some((v) => q.eq(filterDecimal(v)));
      default:
        return compare(q, filter.operator, filterDecimal(values[0]));
    }
  }
  const v = property(event, name);
  switch (filter.operator) {
    case 'exists':
      return v !== undefined;
    case 'eq':
    case 'in':
      return v !== undefined && values.map(propertyText).includes(v);
    case 'ne':
    case 'not_in':
      return !(v !== undefined && values.map(propertyText).includes(v));
    default: {
      const n = numericValue(event, name);
      return n !== undefined && compare(n, filter.operator, filterDecimal(values[0]));
    }
  }
}

function compare(a: Dec, op: Filter['operator'], b: Dec): boolean {
  switch (op) {
    case 'gt':
      return a.gt(b);
    case 'gte':
      return a.gte(b);
    case 'lt':
      return a.lt(b);
    case 'lte':
      return a.lte(b);
    case 'eq':
      return a.eq(b);
    case 'ne':
      return !a.eq(b);
    default:
      throw new Error(`operator ${op} is not a comparison`);
  }
}

/** UTF-8 byte order (= code point order), how ClickHouse compares Strings. */
export function compareBytes(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0) ?? 0;
    const cy = y.value.codePointAt(0) ?? 0;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

function hasValue(series: Series, event: MeterEvent): boolean {
  const v = series.valueProperty;
  if (series.aggregation === 'count' || v === undefined || v === QUANTITY) return true;
  return series.aggregation === 'unique_count'
    ? property(event, v) !== undefined
    : numericValue(event, v) !== undefined;
}

/** The events a series aggregates (event type, filters, value present); no time or customer scope. */
function seriesEvents(
  series: Series,
  events: Iterable<MeterEvent>,
  extraFilters: readonly Filter[] = [],
): MeterEvent[] {
  const types = new Set(series.eventTypes);
  const filters = [...series.filters, ...extraFilters];
  const out: MeterEvent[] = [];
  for (const e of events) {
    if (types.has(e.type) && filters.every((f) => matchesFilter(e, f)) && hasValue(series, e)) out.push(e);
  }
  return out;
}

/** The aggregate of a series over events that already passed `seriesEvents`. Empty: "0". */
function aggregate(series: Series, events: readonly MeterEvent[]): string {
  const property = series.valueProperty ?? QUANTITY;
  const value = (e: MeterEvent) => numericValue(e, property) ?? new D(0);
  switch (series.aggregation) {
    case 'count':
      return String(events.length);
    case 'unique_count': {
      const distinct = new Set(
        events.map((e) =>
          property === QUANTITY ? decimalText(new D(e.quantity)) : propertyOrEmpty(e, property),
        ),
      );
      return String(distinct.size);
    }
    case 'sum':
      return decimalText(events.reduce((acc, e) => acc.plus(value(e)), new D(0)));
    case 'max':
    case 'min': {
      if (events.length === 0) return '0';
      let best = value(events[0]);
      for (const e of events) {
        const v = value(e);
        if (series.aggregation === 'max' ? v.gt(best) : v.lt(best)) best = v;
      }
      return decimalText(best);
    }
    case 'latest': {
      if (events.length === 0) return '0';
      let last = events[0];
      for (const e of events) {
        // argMax(value, (ts, ts_ms, event_id)): later time wins, then the greater id.
        if (e.ts > last.ts || (e.ts === last.ts && compareBytes(e.id, last.id) > 0)) last = e;
      }
      return decimalText(value(last));
    }
    case 'avg': {
      const sum = events.reduce((acc, e) => acc.plus(value(e)), new D(0));
      // Decimal(38, 12) / UInt64 in ClickHouse: the scaled integer divided, truncated toward zero.
      const scale = new D(10).pow(VALUE_SCALE);
      const quotient = sum.times(scale).divToInt(Math.max(events.length, 1));
      return decimalText(quotient.div(scale));
    }
  }
}

function propertyOrEmpty(e: MeterEvent, name: string): string {
  return property(e, name) ?? '';
}

/**
 * The usage of `meter` (or its `profile`) over the given events: the value `meterQuery` returns with no
 * window and no grouping, given the same events. Pass only events of one tenant and of the time range
 * wanted (or use `options.from`/`to`, epoch-ms inclusive/exclusive); values are exact decimal text.
 */
export function aggregateInMemory(
  meter: MeterDefinition,
  profile: string | undefined,
  events: Iterable<MeterEvent>,
  options: { from?: Date; to?: Date; customers?: readonly string[]; extraFilters?: readonly Filter[] } = {},
): string {
  const series = resolveSeries(meter, profile);
  const from = options.from?.getTime() ?? -Infinity;
  const to = options.to?.getTime() ?? Infinity;
  const customers = options.customers ? new Set(options.customers) : undefined;
  const scoped = seriesEvents(series, events, options.extraFilters).filter(
    (e) => e.ts >= from && e.ts < to && (!customers || customers.has(e.customer)),
  );
  return aggregate(series, scoped);
}

/**
 * The rows `meterQuery(params)` returns, computed from `events` (all of `params.tenant`): same
 * columns, same order, same LIMIT.
 */
export function meterRowsInMemory(
  params: Omit<MeterQueryParams, 'database'>,
  events: Iterable<MeterEvent>,
): MeterRow[] {
  validateMeterQueryParams(params);
  const series = resolveSeries(params.meter, params.profile);
  const from = params.from.getTime();
  const to = params.to.getTime();
  const customers = params.customers ? new Set(params.customers) : undefined;
  const groupBy = params.groupBy ?? [];
  const scoped = seriesEvents(series, events, params.extraFilters).filter(
    (e) => e.ts >= from && e.ts < to && (!customers || customers.has(e.customer)),
  );
  const grouped = params.window !== 'none' || params.groupByCustomer || groupBy.length > 0;
  if (!grouped) return [{ value: aggregate(series, scoped) }].slice(0, params.limit);

  const groups = new Map<
    string,
    { row: Omit<MeterRow, 'value'>; sortKey: Array<number | string>; events: MeterEvent[] }
  >();
  for (const e of scoped) {
    const row: Record<string, string | number> = {};
    const sortKey: Array<number | string> = [];
    if (params.window !== 'none') {
      row.window_start = windowStartOf(params.window, Math.floor(e.ts / 1000), params.timezone);
      sortKey.push(row.window_start);
    }
    if (params.groupByCustomer) {
      row.customer = e.customer;
      sortKey.push(e.customer);
    }
    groupBy.forEach((p, i) => {
      row[`group_${i}`] = propertyOrEmpty(e, p);
      sortKey.push(propertyOrEmpty(e, p));
    });
    const key = JSON.stringify(sortKey);
    let g = groups.get(key);
    if (!g) {
      g = { row: row as Omit<MeterRow, 'value'>, sortKey, events: [] };
      groups.set(key, g);
    }
    g.events.push(e);
  }
  const sorted = [...groups.values()].sort((a, b) => {
    for (let i = 0; i < a.sortKey.length; i++) {
      const x = a.sortKey[i];
      const y = b.sortKey[i];
      const c = typeof x === 'number' ? x - (y as number) : compareBytes(x, y as string);
      if (c !== 0) return c;
    }
    return 0;
  });
  return sorted
    .slice(0, params.limit)
    .map((g) => ({ ...g.row, value: aggregate(series, g.events) }) as MeterRow);
}
