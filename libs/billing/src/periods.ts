/**
 * Billing periods. An invoice covers one customer and one period `YYYY-MM`: for each of the customer's
 * subscriptions, the billing period that starts in that month on the subscription's anchor day
 * (`billingAnchorDay`, else the start date's day; clamped to the month's last day), cut to the
 * subscription's `start` and `end`. With the default anchor of a subscription that starts on the 1st,
 * that is the calendar month. Dates are local to the customer's zone; instants are computed the way
 * ClickHouse computes local days (`@tally/metering`'s `startOfLocalDate`). Pure: no clock, no I/O.
 */
import type { Subscription } from '@tally/catalog';
import { ValidationFailedError } from '@tally/errors';
import { startOfLocalDate } from '@tally/metering';

/** `YYYY-MM`: the month a period starts in. */
export const PERIOD_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface YearMonth {
  year: number;
  month: number;
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

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

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
  const [y, m, d] = date.split('-').map(Number);
  return startOfLocalDate(y, m, d, timeZone) * 1000;
}

/** Whole days from `from` to `to` (local dates; calendar arithmetic, time zones play no part). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

function dateText(ym: YearMonth, day: number): string {
  return `${formatPeriod(ym)}-${String(day).padStart(2, '0')}`;
}

/** The anchor date of a subscription in a month (clamped to the month's last day). */
export function anchorDate(
  subscription: Pick<Subscription, 'start' | 'billingAnchorDay'>,
  ym: YearMonth,
): string {
  const anchor = subscription.billingAnchorDay ?? Number(subscription.start.slice(8, 10));
  return dateText(ym, Math.min(anchor, daysInMonth(ym)));
}

/** One subscription's share of a period, as local dates (`end` exclusive). */
export interface SubscriptionPeriod {
  subscription: string;
  plan: string;
  /** First day billed. */
  start: string;
  /** First day no longer billed. */
  end: string;
  /** Days of the full (uncut) billing period: what flat fees are prorated against. */
  daysInPeriod: number;
  /** Days of `[start, end)`. */
  activeDays: number;
}

/**
 * The billing period of `subscription` that starts in `period`, cut to the subscription's own dates,
 * or undefined when the subscription is not active in it.
 */
export function subscriptionPeriod(
  subscription: Pick<Subscription, 'id' | 'plan' | 'start' | 'end' | 'billingAnchorDay'>,
  period: string,
): SubscriptionPeriod | undefined {
  const ym = parsePeriod(period);
  const fullStart = anchorDate(subscription, ym);
  const fullEnd = anchorDate(subscription, addMonths(ym, 1));
  const start = subscription.start > fullStart ? subscription.start : fullStart;
  const end = subscription.end !== undefined && subscription.end < fullEnd ? subscription.end : fullEnd;
  if (start >= end) return undefined;
  return {
    subscription: subscription.id,
    plan: subscription.plan,
    start,
    end,
    daysInPeriod: daysBetween(fullStart, fullEnd),
    activeDays: daysBetween(start, end),
  };
}

/** What one customer is billed for in one period. */
export interface CustomerPeriod {
  period: string;
  timezone: string;
  subscriptions: SubscriptionPeriod[];
  /** Earliest start and latest end over the subscriptions, as instants (epoch ms). */
  fromMs: number;
  toMs: number;
}

/** The customer's billable period, or undefined when no subscription is active in it. */
export function customerPeriod(
  subscriptions: ReadonlyArray<Pick<Subscription, 'id' | 'plan' | 'start' | 'end' | 'billingAnchorDay'>>,
  period: string,
  timezone: string,
): CustomerPeriod | undefined {
  const shares = subscriptions
    .map((s) => subscriptionPeriod(s, period))
    .filter((s): s is SubscriptionPeriod => s !== undefined)
    .sort((a, b) => (a.subscription < b.subscription ? -1 : a.subscription > b.subscription ? 1 : 0));
  if (shares.length === 0) return undefined;
  const start = shares.reduce((min, s) => (s.start < min ? s.start : min), shares[0].start);
  const end = shares.reduce((max, s) => (s.end > max ? s.end : max), shares[0].end);
  return {
    period,
    timezone,
    subscriptions: shares,
    fromMs: startOfDate(start, timezone),
    toMs: startOfDate(end, timezone),
  };
}

/**
 * The periods of the customer that ended in `(afterMs, atMs]`: what a billing run at `atMs` that looks
 * back to `afterMs` bills. Only the periods starting in the two months before `atMs`'s local month
 * and in that month itself can qualify (a period lasts at most a month), so only those are tried.
 */
export function periodsEndedBetween(
  subscriptions: ReadonlyArray<Pick<Subscription, 'id' | 'plan' | 'start' | 'end' | 'billingAnchorDay'>>,
  timezone: string,
  afterMs: number,
  atMs: number,
): CustomerPeriod[] {
  const local = localDateOf(atMs, timezone);
  const here: YearMonth = { year: Number(local.slice(0, 4)), month: Number(local.slice(5, 7)) };
  const out: CustomerPeriod[] = [];
  for (const delta of [-2, -1, 0]) {
    const p = customerPeriod(subscriptions, formatPeriod(addMonths(here, delta)), timezone);
    if (p && p.toMs > afterMs && p.toMs <= atMs) out.push(p);
  }
  return out;
}
