/**
 * Billing periods and local calendar days, computed the way ClickHouse computes day windows
 * (`@tally/metering`'s `windowStartOf`): a day starts at its first instant in the zone, a month at the
 * start of its first day. Pure: no clock (callers pass `now`), no I/O.
 */
import type { Subscription } from '@tally/catalog';
import { startOfLocalDate, windowStartOf } from '@tally/metering';

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** A `[from, to)` range of instants and where it came from. */
export interface UsagePeriod {
  from: Date;
  to: Date;
  timezone: string;
  /** `subscription`: the active subscription's billing period; `calendar_month`: no active subscription. */
  source: 'subscription' | 'calendar_month';
  subscription?: string;
  plan?: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The calendar date of an instant in `timeZone`. */
export function localDate(instant: Date, timeZone: string): LocalDate {
  const out: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) {
    if (part.type === 'year' || part.type === 'month' || part.type === 'day')
      out[part.type] = Number(part.value);
  }
  return { year: out.year, month: out.month, day: out.day };
}

export function formatDate(d: LocalDate): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

export function parseDate(text: string): LocalDate {
  const [year, month, day] = text.split('-').map(Number);
  return { year, month, day };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Adds months to a (year, month) pair. */
function addMonths(year: number, month: number, delta: number): { year: number; month: number } {
  const index = year * 12 + (month - 1) + delta;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

/** The first instant of a local date. */
export function startOf(d: LocalDate, timeZone: string): Date {
  return new Date(startOfLocalDate(d.year, d.month, d.day, timeZone) * 1000);
}

/** `[first instant of the month, first instant of the next month)` in `timeZone`. */
export function calendarMonth(year: number, month: number, timeZone: string): { from: Date; to: Date } {
  const next = addMonths(year, month, 1);
  return {
    from: startOf({ year, month, day: 1 }, timeZone),
    to: startOf({ year: next.year, month: next.month, day: 1 }, timeZone),
  };
}

/** The subscription active on local date `today` (start ≤ today < end); the latest start wins. */
export function activeSubscription(
  subscriptions: readonly Subscription[],
  today: string,
): Subscription | undefined {
  let best: Subscription | undefined;
  for (const s of subscriptions) {
    if (s.start > today || (s.end !== undefined && s.end <= today)) continue;
    if (!best || s.start > best.start || (s.start === best.start && s.id > best.id)) best = s;
  }
  return best;
}

/**
 * The billing period of `subscription` that contains local date `today`. Periods start on the anchor
 * day of each month (`billingAnchorDay`, else the start date's day; clamped to the month's last day,
 * so an anchor of 31 starts February's period on the 28th/29th), the first one on the start date and
 * the last one ending at `end`.
 */
export function subscriptionPeriodDates(
  subscription: Subscription,
  today: string,
): { start: string; end: string } {
  const t = parseDate(today);
  const anchor = subscription.billingAnchorDay ?? parseDate(subscription.start).day;
  const boundary = (year: number, month: number) =>
    formatDate({ year, month, day: Math.min(anchor, daysInMonth(year, month)) });
  let start = boundary(t.year, t.month);
  let end: string;
  if (today >= start) {
    const next = addMonths(t.year, t.month, 1);
    end = boundary(next.year, next.month);
  } else {
    const previous = addMonths(t.year, t.month, -1);
    end = start;
    start = boundary(previous.year, previous.month);
  }
  if (subscription.start > start) start = subscription.start;
  if (subscription.end !== undefined && subscription.end < end) end = subscription.end;
  return { start, end };
}

/**
 * The period usage is measured over "now" for a customer: its active subscription's billing period,
 * or the calendar month when it has none. Dates are local to `timeZone` (the customer's zone).
 */
export function currentPeriod(
  now: Date,
  timeZone: string,
  subscriptions: readonly Subscription[] = [],
): UsagePeriod {
  const today = localDate(now, timeZone);
  const subscription = activeSubscription(subscriptions, formatDate(today));
  if (!subscription) {
    return {
      ...calendarMonth(today.year, today.month, timeZone),
      timezone: timeZone,
      source: 'calendar_month',
    };
  }
  const { start, end } = subscriptionPeriodDates(subscription, formatDate(today));
  return {
    from: startOf(parseDate(start), timeZone),
    to: startOf(parseDate(end), timeZone),
    timezone: timeZone,
    source: 'subscription',
    subscription: subscription.id,
    plan: subscription.plan,
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
