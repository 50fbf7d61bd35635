/**
 * Billing periods: THE rule of which days a customer is billed for, used by invoices (`@tally/billing`)
 * and by the usage API's current period (`@tally/usage`), so that the two cannot disagree.
 *
 * An invoice covers one customer and one period `YYYY-MM`: for each of the customer's subscriptions,
 * the billing period that starts in that month on the subscription's anchor day (`billingAnchorDay`,
 * else the start date's day; clamped to the month's last day, so an anchor of 31 starts February's
 * period on the 28th/29th), cut to the subscription's `start` and `end`. With the default anchor of a
 * subscription that starts on the 1st, that is the calendar month. Dates are local to the customer's
 * zone. Pure: no clock (callers pass `now`), no I/O.
 */
import {
  addMonths,
  calendarMonth,
  daysBetween,
  daysInMonth,
  formatDate,
  formatPeriod,
  localDate,
  localDateOf,
  parseDate,
  parsePeriod,
  startOf,
  startOfDate,
  type YearMonth,
} from './calendar';

/** What the period rule reads of a subscription (the catalog's `Subscription` has these fields). */
export interface SubscriptionTerms {
  id: string;
  plan: string;
  /** First day billed (local date). */
  start: string;
  /** First day no longer billed (exclusive); open-ended when absent. */
  end?: string;
  billingAnchorDay?: number;
  /** First day no longer in trial: flat fees are not charged before it (usage is). */
  trialEnd?: string;
}

/** The anchor date of a subscription in a month (clamped to the month's last day). */
export function anchorDate(
  subscription: Pick<SubscriptionTerms, 'start' | 'billingAnchorDay'>,
  ym: YearMonth,
): string {
  const anchor = subscription.billingAnchorDay ?? Number(subscription.start.slice(8, 10));
  return formatDate({ ...ym, day: Math.min(anchor, daysInMonth(ym)) });
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
  /** The full (uncut) period's dates, present when the share is cut (what per-second proration needs). */
  periodStart?: string;
  periodEnd?: string;
  /** The subscription's trial end, present when the trial covers part of the share (no flat fees before it). */
  trialEnd?: string;
}

/**
 * The billing period of `subscription` that starts in `period`, cut to the subscription's own dates,
 * or undefined when the subscription is not active in it.
 */
export function subscriptionPeriod(
  subscription: SubscriptionTerms,
  period: string,
): SubscriptionPeriod | undefined {
  const ym = parsePeriod(period);
  const fullStart = anchorDate(subscription, ym);
  const fullEnd = anchorDate(subscription, addMonths(ym, 1));
  const start = subscription.start > fullStart ? subscription.start : fullStart;
  const end = subscription.end !== undefined && subscription.end < fullEnd ? subscription.end : fullEnd;
  if (start >= end) return undefined;
  const cut = start !== fullStart || end !== fullEnd;
  const trial = subscription.trialEnd !== undefined && subscription.trialEnd > start;
  return {
    subscription: subscription.id,
    plan: subscription.plan,
    start,
    end,
    daysInPeriod: daysBetween(fullStart, fullEnd),
    activeDays: daysBetween(start, end),
    ...(cut ? { periodStart: fullStart, periodEnd: fullEnd } : {}),
    ...(trial ? { trialEnd: subscription.trialEnd } : {}),
  };
}

/**
 * The part of its full period a subscription's flat fees are charged for, up to local date `until`
 * (the share's end by default): the days (or, for `unit: "second"`, the seconds in the customer's
 * zone, so a day of a DST change counts 23 or 25 hours) of `[start, until)` outside the trial, out of
 * the full period's. What `@tally/pricing` prorates a flat fee with (`amount × active / inPeriod`).
 */
export function feeShare(
  share: SubscriptionPeriod,
  unit: 'day' | 'second',
  timezone: string,
  until: string = share.end,
): { daysInPeriod: number; activeDays: number; unit?: 'second' } {
  const from = share.trialEnd !== undefined && share.trialEnd > share.start ? share.trialEnd : share.start;
  const to = until < share.end ? until : share.end;
  if (unit === 'day')
    return { daysInPeriod: share.daysInPeriod, activeDays: to > from ? daysBetween(from, to) : 0 };
  const seconds = (a: string, b: string) => (startOfDate(b, timezone) - startOfDate(a, timezone)) / 1000;
  return {
    daysInPeriod: seconds(share.periodStart ?? share.start, share.periodEnd ?? share.end),
    activeDays: to > from ? seconds(from, to) : 0,
    unit: 'second',
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
  subscriptions: readonly SubscriptionTerms[],
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
  subscriptions: readonly SubscriptionTerms[],
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

/**
 * The customer's period that is open at `atMs` (it started and has not ended), or undefined when no
 * subscription is active then: the period of the active subscription's billing period.
 */
export function openCustomerPeriod(
  subscriptions: readonly SubscriptionTerms[],
  timezone: string,
  atMs: number,
): CustomerPeriod | undefined {
  const today = localDateOf(atMs, timezone);
  const active = activeSubscription(subscriptions, today);
  if (!active) return undefined;
  const p = customerPeriod(subscriptions, billingPeriodOn(active, today), timezone);
  return p && p.fromMs <= atMs && atMs < p.toMs ? p : undefined;
}

/** The subscription active on local date `today` (start ≤ today < end); the latest start wins. */
export function activeSubscription<S extends SubscriptionTerms>(
  subscriptions: readonly S[],
  today: string,
): S | undefined {
  let best: S | undefined;
  for (const s of subscriptions) {
    if (s.start > today || (s.end !== undefined && s.end <= today)) continue;
    if (!best || s.start > best.start || (s.start === best.start && s.id > best.id)) best = s;
  }
  return best;
}

/**
 * The billing period (`YYYY-MM`, the month it starts in) of `subscription` that contains local date
 * `today`: this month's if today is on or after this month's anchor date, else last month's.
 */
export function billingPeriodOn(subscription: SubscriptionTerms, today: string): string {
  const ym = parseDate(today);
  return formatPeriod(today >= anchorDate(subscription, ym) ? ym : addMonths(ym, -1));
}

/**
 * The dates of the billing period of `subscription` that contains local date `today`, cut to the
 * subscription's start and end: the invoice's `subscriptionPeriod` of `billingPeriodOn(today)`.
 */
export function subscriptionPeriodDates(
  subscription: SubscriptionTerms,
  today: string,
): { start: string; end: string } {
  const share = subscriptionPeriod(subscription, billingPeriodOn(subscription, today));
  // Never undefined for an active subscription: today is inside both its dates and its period.
  if (!share) throw new Error(`subscription '${subscription.id}' is not active on ${today}`);
  return { start: share.start, end: share.end };
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

/**
 * The period usage is measured over "now" for a customer: its active subscription's billing period,
 * or the calendar month when it has none. Dates are local to `timeZone` (the customer's zone).
 */
export function currentPeriod(
  now: Date,
  timeZone: string,
  subscriptions: readonly SubscriptionTerms[] = [],
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
