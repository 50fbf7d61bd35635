import type { UsagePeriod } from '@tally/billing-periods';
import type { Meter } from '@tally/catalog';
import { type Series, windowStartOf, type WindowSize } from '@tally/metering';
import type { PeriodInfo, SeriesUsage } from '../usage.types';

const HOUR = 3600;

export function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}

/** The window that starts at `start` (epoch seconds, as the SQL reports it): `[start, next start)`. */
export function windowBounds(
  window: Exclude<WindowSize, 'none'>,
  start: number,
  timeZone: string,
): [number, number] {
  switch (window) {
    case 'minute':
      return [start, start + 60];
    case 'hour':
      return [start, start + HOUR];
    case 'day':
      // A local day lasts 23 to 25 hours: 26 hours on is inside the next one.
      return [start, windowStartOf('day', start + 26 * HOUR, timeZone)];
    case 'month':
      return [start, windowStartOf('month', start + 32 * 86_400, timeZone)];
  }
}

export function describeSeries(meter: Meter, series: Series): Omit<SeriesUsage, 'total' | 'days'> {
  const profile =
    series.profile === undefined ? undefined : meter.profiles.find((p) => p.key === series.profile);
  return {
    series: series.key,
    meter: meter.key,
    profile: series.profile ?? null,
    name: profile?.name ?? meter.name,
    aggregation: series.aggregation,
  };
}

export function periodInfo(period: UsagePeriod): PeriodInfo {
  return {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    timezone: period.timezone,
    source: period.source,
    subscription: period.subscription ?? null,
    plan: period.plan ?? null,
  };
}

/** `meter` or `meter:profile`. */
export function splitSeriesKey(key: string): [string, string | undefined] {
  const i = key.indexOf(':');
  return i < 0 ? [key, undefined] : [key.slice(0, i), key.slice(i + 1)];
}
