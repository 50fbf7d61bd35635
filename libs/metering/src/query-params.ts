/**
 * What a meter query asks for, checked the same way by the SQL builders of `@tally/clickhouse`
 * (`sql/meter-query.ts`, `sql/top-customers.ts`, `sql/customer-period-usage.ts`) and by the
 * in-memory reference (`aggregate-in-memory.ts`).
 */
import { type FieldIssue, ValidationFailedError } from '@tally/errors';
import { type Filter, filterSchema, type MeterDefinition } from './meter';
import { isValidTimeZone, timeZoneProblem } from './timezone';
import { fieldIssuesFromZod } from './zod-issues';

export const WINDOW_SIZES = ['minute', 'hour', 'day', 'month', 'none'] as const;
export type WindowSize = (typeof WINDOW_SIZES)[number];

/** Largest LIMIT a builder accepts; larger result sets belong in an export, not a query. */
export const MAX_LIMIT = 1_000_000;
/** Most customers one query may name in `customers`. */
export const MAX_CUSTOMERS = 10_000;

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

  /** A profile, when named, must be one of the meter's. */
  profile(meter: MeterDefinition, profile: string | undefined): void {
    if (profile !== undefined && !meter.profiles.some((p) => p.key === profile)) {
      this.add('profile', 'UNKNOWN_PROFILE', `meter '${meter.key}' has no profile '${profile}'`);
    }
  }

  filters(filters: readonly unknown[] | undefined, field = 'extraFilters'): void {
    filters?.forEach((f, i) => {
      const r = filterSchema.safeParse(f);
      if (!r.success) this.list.push(...fieldIssuesFromZod(r.error, `${field}[${i}]`));
    });
  }
}

export interface MeterQueryParams {
  /** The ClickHouse database holding `events` (validated by the quoter's `identifier`). */
  database: string;
  tenant: string;
  meter: MeterDefinition;
  /** Aggregate one of the meter's profiles instead of the meter itself. */
  profile?: string;
  /** Inclusive start, whole seconds. */
  from: Date;
  /** Exclusive end, whole seconds. */
  to: Date;
  window: WindowSize;
  /** IANA zone in which hour, day and month windows start. */
  timezone: string;
  /** Only these customers (external ids). */
  customers?: readonly string[];
  /** One row per customer (`customer` column). */
  groupByCustomer?: boolean;
  /** Properties to group by; each must be listed in the meter's `groupBy`. */
  groupBy?: readonly string[];
  /** Filters applied on top of the meter's (and the profile's), e.g. from a query string. */
  extraFilters?: readonly Filter[];
  limit: number;
}

/**
 * One result row of `meterQuery`. Columns present depend on the parameters: `window_start` (epoch
 * seconds, UInt32) unless `window` is `none`; `customer` with `groupByCustomer`; `group_<i>` holds the
 * value of `groupBy[i]` ('' for events without it). `value` is always exact decimal text.
 */
export interface MeterRow {
  window_start?: number;
  customer?: string;
  value: string;
  [group: `group_${number}`]: string;
}

/** Checks the parameters of `meterQuery` (also used by the in-memory reference). */
export function validateMeterQueryParams(params: Omit<MeterQueryParams, 'database'>): void {
  const issues = new ParamIssues();
  issues.tenant(params.tenant);
  issues.range(params.from, params.to);
  if (!(WINDOW_SIZES as readonly string[]).includes(params.window)) {
    issues.add('window', 'INVALID_VALUE', `window must be one of ${WINDOW_SIZES.join(', ')}`);
  }
  issues.timeZone(params.timezone);
  issues.customers(params.customers);
  issues.limit(params.limit);
  issues.filters(params.extraFilters);
  const allowed = new Set(params.meter.groupBy);
  (params.groupBy ?? []).forEach((g, i) => {
    if (!allowed.has(g)) {
      issues.add(
        `groupBy[${i}]`,
        'GROUP_BY_NOT_IN_METER',
        `meter '${params.meter.key}' cannot be grouped by '${g}'; it allows: ${params.meter.groupBy.join(', ') || '(none)'}`,
      );
    }
    if ((params.groupBy ?? []).indexOf(g) !== i)
      issues.add(`groupBy[${i}]`, 'DUPLICATE', `'${g}' appears twice`);
  });
  issues.profile(params.meter, params.profile);
  issues.throwIfAny();
}
