/**
 * Decoding of usage query strings. Every problem is collected, so one 422 names every bad parameter
 * (with its index for repeated ones: `customer[1]`, `filter[0].value`); nothing reaches SQL unchecked.
 */
import { type FieldIssue, ValidationFailedError } from '@tally/errors';
import {
  type Filter,
  fieldIssuesFromZod,
  filterSchema,
  isValidTimeZone,
  timeZoneProblem,
} from '@tally/metering';
import { startOf } from '@tally/billing-periods';

export type QueryString = Record<string, string | string[] | undefined>;

/** ClickHouse DateTime covers 1970-01-01 .. 2105-12-31 on every server generation. */
const MIN_TIME = 0;
const MAX_TIME = Date.UTC(2106, 0, 1);

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Longest customer id events may carry (docs/events.md). */
const CUSTOMER_MAX_LENGTH = 256;

function validDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export class QueryParams {
  readonly issues: FieldIssue[] = [];

  constructor(
    private readonly query: QueryString,
    allowed: readonly string[],
  ) {
    for (const name of Object.keys(query ?? {})) {
      if (!allowed.includes(name)) {
        this.add(name, 'UNKNOWN_PARAMETER', `unknown parameter; this endpoint takes: ${allowed.join(', ')}`);
      }
    }
  }

  add(field: string, code: string, message: string): void {
    this.issues.push({ field, code, message });
  }

  /** Throws one `ValidationFailedError` (422) listing every issue collected so far. */
  throwIfAny(): void {
    if (this.issues.length) throw new ValidationFailedError(this.issues, 'Invalid query parameters');
  }

  has(name: string): boolean {
    return this.query?.[name] !== undefined;
  }

  /** A parameter given at most once. */
  one(name: string): string | undefined {
    const v = this.query?.[name];
    if (Array.isArray(v)) {
      this.add(name, 'NOT_REPEATABLE', `give ${name} at most once`);
      return undefined;
    }
    return v;
  }

  /** A parameter that may be repeated (`customer=a&customer=b`). */
  many(name: string): string[] {
    const v = this.query?.[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  }

  required(name: string): string | undefined {
    const v = this.one(name);
    if (v === undefined && !this.issues.some((i) => i.field === name))
      this.add(name, 'REQUIRED', `${name} is required`);
    return v;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.one(name);
    if (v === undefined) return fallback;
    if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) {
      this.add(name, 'OUT_OF_RANGE', `${name} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return Number(v);
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.one(name);
    if (v === undefined) return fallback;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    this.add(name, 'INVALID_VALUE', `${name} must be true or false`);
    return fallback;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const v = this.one(name);
    if (v === undefined) return fallback;
    if (!(values as readonly string[]).includes(v)) {
      this.add(name, 'INVALID_VALUE', `${name} must be one of ${values.join(', ')}`);
      return fallback;
    }
    return v as T;
  }

  timeZone(name: string, fallback: string): string {
    const v = this.one(name);
    if (v === undefined) return fallback;
    if (!isValidTimeZone(v)) {
      this.add(name, 'INVALID_TIMEZONE', timeZoneProblem(v));
      return fallback;
    }
    return v;
  }

  /**
   * An instant: an ISO 8601 timestamp with `Z` or an offset (`2026-03-08T05:00:00Z`,
   * `2026-03-08T00:00:00-05:00`), whole seconds; or a date (`2026-03-08`), meaning the first instant
   * of that day in `timeZone`.
   */
  time(name: string, timeZone: string, required = true): Date | undefined {
    const v = required ? this.required(name) : this.one(name);
    if (v === undefined) return undefined;
    let date: Date | undefined;
    const ts = TIMESTAMP.exec(v);
    const d = DATE.exec(v);
    if (ts) {
      if (
        !validDate(Number(ts[1]), Number(ts[2]), Number(ts[3])) ||
        Number(ts[4]) > 23 ||
        Number(ts[5]) > 59 ||
        Number(ts[6] ?? 0) > 59
      ) {
        this.add(name, 'INVALID_TIME', `${name} is not a valid time`);
        return undefined;
      }
      if (ts[7] !== undefined && /[1-9]/.test(ts[7])) {
        this.add(name, 'TIME_NOT_WHOLE_SECOND', `${name} must be a whole second`);
        return undefined;
      }
      date = new Date(Date.parse(v));
    } else if (d) {
      if (!validDate(Number(d[1]), Number(d[2]), Number(d[3]))) {
        this.add(name, 'INVALID_TIME', `${name} is not a calendar date`);
        return undefined;
      }
      date = startOf({ year: Number(d[1]), month: Number(d[2]), day: Number(d[3]) }, timeZone);
    } else {
      this.add(
        name,
        'INVALID_TIME',
        `${name} must be an ISO 8601 time with Z or an offset (2026-03-01T00:00:00Z) or a date (2026-03-01)`,
      );
      return undefined;
    }
    if (Number.isNaN(date.getTime()) || date.getTime() < MIN_TIME || date.getTime() >= MAX_TIME) {
      this.add(name, 'INVALID_TIME', `${name} must be between 1970-01-01 and 2105-12-31`);
      return undefined;
    }
    return date;
  }

  /** `YYYY-MM` as (year, month). */
  month(name: string): { year: number; month: number } | undefined {
    const v = this.one(name);
    if (v === undefined) return undefined;
    const m = MONTH.exec(v);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 12 || Number(m[1]) < 1970 || Number(m[1]) > 2105) {
      this.add(name, 'INVALID_PERIOD', `${name} must be a month YYYY-MM between 1970-01 and 2105-12`);
      return undefined;
    }
    return { year: Number(m[1]), month: Number(m[2]) };
  }

  /** Customer external ids (any text of 1–256 characters that can be sent exactly). */
  customers(name: string): string[] {
    const list = this.many(name);
    list.forEach((c, i) => {
      const problem = customerIdProblem(c);
      if (problem) this.add(`${name}[${i}]`, problem.code, problem.message);
    });
    return list;
  }

  /** Filters as JSON, one per parameter: `filter={"property":"country","operator":"in","value":["USA"]}`. */
  filters(name: string): Filter[] {
    const out: Filter[] = [];
    this.many(name).forEach((text, i) => {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        this.add(
          `${name}[${i}]`,
          'MALFORMED_JSON',
          `${name} must be a JSON filter such as {"property":"country","operator":"eq","value":"USA"}`,
        );
        return;
      }
      const parsed = filterSchema.safeParse(json);
      if (parsed.success) out.push(parsed.data);
      else this.issues.push(...fieldIssuesFromZod(parsed.error, `${name}[${i}]`));
    });
    return out;
  }
}

/** Why a customer id (from a path or a query string) cannot be looked up, if it cannot. */
export function customerIdProblem(id: string): { code: string; message: string } | undefined {
  if (id.length === 0) return { code: 'TOO_SHORT', message: 'a customer id is at least 1 character' };
  if (id.length > CUSTOMER_MAX_LENGTH)
    return { code: 'TOO_LONG', message: `a customer id is at most ${CUSTOMER_MAX_LENGTH} characters` };
  if (LONE_SURROGATE.test(id)) return { code: 'INVALID_STRING', message: 'contains a lone UTF-16 surrogate' };
  return undefined;
}
