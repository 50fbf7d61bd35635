/**
 * Window starts computed in JavaScript exactly as the SQL computes them in ClickHouse
 * (`toStartOfMinute(ts)`, `toStartOfHour(ts, tz)`, `toStartOfDay(ts, tz)`, `toStartOfMonth(ts, tz)`),
 * for the in-memory reference implementation. Pure: only `Intl`, no clock, no I/O.
 *
 * Times are epoch seconds. A day starts at its first instant in the zone (where midnight does not
 * exist because clocks jump forward at 00:00, that is 01:00); a month starts at its first day's start.
 */
import type { WindowSize } from './query-params';

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const dayStarts = new Map<string, number>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function localTime(epochSeconds: number, timeZone: string): LocalTime {
  const out: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(epochSeconds * 1000))) {
    if (part.type !== 'literal') out[part.type] = Number(part.value);
  }
  return {
    year: out.year,
    month: out.month,
    day: out.day,
    hour: out.hour,
    minute: out.minute,
    second: out.second,
  };
}

/** Seconds to add to UTC to get local wall-clock time at that instant. */
export function utcOffsetSeconds(epochSeconds: number, timeZone: string): number {
  const l = localTime(epochSeconds, timeZone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) / 1000 - epochSeconds;
}

function dateNumber(l: Pick<LocalTime, 'year' | 'month' | 'day'>): number {
  return l.year * 10_000 + l.month * 100 + l.day;
}

/** First instant (epoch seconds) whose local date in `timeZone` is year-month-day or later. */
export function startOfLocalDate(year: number, month: number, day: number, timeZone: string): number {
  const cacheKey = `${timeZone}|${year}-${month}-${day}`;
  const cached = dayStarts.get(cacheKey);
  if (cached !== undefined) return cached;
  const target = dateNumber({ year, month, day });
  const wall = Date.UTC(year, month - 1, day) / 1000;
  // UTC offsets stay within -12h..+14h, so the day starts inside this bracket.
  let lo = wall - 30 * 3600; // local date before target
  let hi = wall + 30 * 3600; // local date at or after target
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dateNumber(localTime(mid, timeZone)) >= target) hi = mid;
    else lo = mid;
  }
  if (dayStarts.size > 100_000) dayStarts.clear();
  dayStarts.set(cacheKey, hi);
  return hi;
}

/** Start of the window containing `epochSeconds`, in epoch seconds (what the SQL's `window_start` holds). */
export function windowStartOf(
  window: Exclude<WindowSize, 'none'>,
  epochSeconds: number,
  timeZone: string,
): number {
  switch (window) {
    case 'minute':
      return Math.floor(epochSeconds / 60) * 60;
    case 'hour': {
      const offset = utcOffsetSeconds(epochSeconds, timeZone);
      return Math.floor((epochSeconds + offset) / 3600) * 3600 - offset;
    }
    case 'day': {
      const l = localTime(epochSeconds, timeZone);
      return startOfLocalDate(l.year, l.month, l.day, timeZone);
    }
    case 'month': {
      const l = localTime(epochSeconds, timeZone);
      return startOfLocalDate(l.year, l.month, 1, timeZone);
    }
  }
}
