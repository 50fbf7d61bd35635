/**
 * Calendar arithmetic on local dates `YYYY-MM-DD` without a clock: the credit ledger, coupons and
 * subscription versions are dated in the customer's zone (like subscriptions), so that their
 * boundaries fall on the same local days as the daily usage an invoice reads.
 */
import { PricingError } from './errors';

const DATE = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

export function isLocalDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE.exec(value);
  if (!m) return false;
  const d = { year: parseInt(m[1], 10), month: parseInt(m[2], 10), day: parseInt(m[3], 10) };
  return d.day <= monthLength(d.year, d.month);
}

export function parseLocalDate(value: string, field = 'date'): CivilDate {
  if (!isLocalDate(value)) {
    throw new PricingError('INVALID_ARGUMENT', `${field} '${String(value)}' is not a date YYYY-MM-DD`, [
      { field, code: 'REQUIRED', message: 'must be a calendar date YYYY-MM-DD' },
    ]);
  }
  return {
    year: parseInt(value.slice(0, 4), 10),
    month: parseInt(value.slice(5, 7), 10),
    day: parseInt(value.slice(8, 10), 10),
  };
}

export function formatLocalDate(d: CivilDate): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

export function monthLength(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** `date` plus `months` calendar months, the day clamped to the target month (Jan 31 + 1 = Feb 28). */
export function addMonthsToDate(date: string, months: number, anchorDay?: number): string {
  const d = parseLocalDate(date);
  const index = d.year * 12 + (d.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return formatLocalDate({ year, month, day: Math.min(anchorDay ?? d.day, monthLength(year, month)) });
}

/** Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil), exact for any year. */
export function dayNumber(date: string): number {
  const { year, month, day } = parseLocalDate(date);
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysFromTo(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

export function maxDate(a: string, b: string): string {
  return a >= b ? a : b;
}

export function minDate(a: string, b: string): string {
  return a <= b ? a : b;
}
