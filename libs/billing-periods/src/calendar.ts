/**
 * Local calendar dates and months, computed the way ClickHouse computes local days
 * (`@tally/metering`'s `startOfLocalDate` and `windowStartOf`): a day starts at its first instant in
 * the zone, a month at the start of its first day. Pure: no clock, no I/O.
 */
import { ValidationFailedError } from '@tally/errors';
import { startOfLocalDate, windowStartOf } from '@tally/metering';

/** `YYYY-MM`: the month a billing period starts in. */
export const PERIOD_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface YearMonth {
  year: number;
  month: number;
}

export interface LocalDate extends YearMonth {
  day: number;
}

export function parsePeriod(period: string, field = 'period'): YearMonth {
  const m = typeof period === 'string' ? PERIOD_PATTERN.exec(period) : null;
  if (!m) {
    throw new ValidationFailedError([
      { field, code: 'INVALID_PERIOD', message: `'${String(period)}' is not a period YYYY-MM` },
    ]);
  }
  return { year: Number(m[1]), month: Number(m[2]) };
}

export function formatPeriod({ year, month }: YearMonth): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

export function addMonths({ year, month }: YearMonth, delta: number): YearMonth {
  const index = year * 12 + (month - 1) + delta;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

export function daysInMonth({ year, month }: YearMonth): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function formatDate(d: LocalDate): string {
  return `${formatPeriod(d)}-${String(d.day).padStart(2, '0')}`;
}

export function parseDate(text: string): LocalDate {
  const [year, month, day] = text.split('-').map(Number);
  return { year, month, day };
}

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar date of an instant in `timeZone`. */
export function localDate(instant: Date, timeZone: string): LocalDate {
  return parseDate(localDateOf(instant.getTime(), timeZone));
}

/** The local calendar date `YYYY-MM-DD` of an instant in `timeZone`. */
export function localDateOf(epochMs: number, timeZone: string): string {
  let f = dateFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormatters.set(timeZone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(epochMs))) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** First instant (epoch ms) of local date `YYYY-MM-DD` in `timeZone`. */
export function startOfDate(date: string, timeZone: string): number {
  const { year, month, day } = parseDate(date);
  return startOfLocalDate(year, month, day, timeZone) * 1000;
}

/** The first instant of a local date. */
export function startOf(d: LocalDate, timeZone: string): Date {
  return new Date(startOfLocalDate(d.year, d.month, d.day, timeZone) * 1000);
}

/** Whole days from `from` to `to` (local dates; calendar arithmetic, time zones play no part). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** `[first instant of the month, first instant of the next month)` in `timeZone`. */
export function calendarMonth(year: number, month: number, timeZone: string): { from: Date; to: Date } {
  const next = addMonths({ year, month }, 1);
  return {
    from: startOf({ year, month, day: 1 }, timeZone),
    to: startOf({ ...next, day: 1 }, timeZone),
  };
}

/** Epoch seconds of every local day start in `[day start of from, to)`. */
export function localDayStarts(from: Date, to: Date, timeZone: string): number[] {
  const end = Math.floor(to.getTime() / 1000);
  const days: number[] = [];
  let day = windowStartOf('day', Math.floor(from.getTime() / 1000), timeZone);
  while (day < end) {
    days.push(day);
    // A local day lasts 23 to 25 hours, so 26 hours later is always inside the next one.
    day = windowStartOf('day', day + 26 * 3600, timeZone);
  }
  return days;
}
