import fc from 'fast-check';
import {
  addMonths,
  currentPeriod,
  customerPeriod,
  daysInMonth,
  formatDate,
  formatPeriod,
  localDateOf,
  startOfDate,
  type SubscriptionTerms,
} from './index';

/** Zones with DST changes on both hemispheres, a half-hour zone, one without DST and UTC itself. */
const ZONES = [
  'UTC',
  'America/New_York',
  'America/Los_Angeles',
  'Europe/Berlin',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Asia/Tokyo',
  'Pacific/Chatham',
];

const date = fc
  .record({
    year: fc.integer({ min: 2024, max: 2027 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 31 }),
  })
  .map((d) => formatDate({ ...d, day: Math.min(d.day, daysInMonth(d)) }));

const subscription = fc
  .record({
    start: date,
    lengthDays: fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }),
    billingAnchorDay: fc.option(fc.integer({ min: 1, max: 31 }), { nil: undefined }),
  })
  .map(({ start, lengthDays, billingAnchorDay }): SubscriptionTerms => {
    const end =
      lengthDays === undefined
        ? undefined
        : new Date(Date.parse(`${start}T00:00:00Z`) + lengthDays * 86_400_000).toISOString().slice(0, 10);
    return {
      id: 's1',
      plan: 'p',
      start,
      ...(end !== undefined ? { end } : {}),
      ...(billingAnchorDay !== undefined ? { billingAnchorDay } : {}),
    };
  });

/**
 * "Now": any instant from 2024 to 2028, or one within three hours of a local midnight (where period
 * boundaries are, and where DST changes shift them: 23- and 25-hour days).
 */
const instant = (zone: string) =>
  fc.oneof(
    fc.integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2028-12-31T00:00:00Z') }),
    fc
      .tuple(date, fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }))
      .map(([d, offset]) => startOfDate(d, zone) + offset),
  );

describe('one period rule for the usage API and invoices (property)', () => {
  it('the usage API period of any instant is the invoice period of the month it starts in', () => {
    fc.assert(
      fc.property(
        subscription,
        fc.constantFrom(...ZONES).chain((zone) => fc.tuple(fc.constant(zone), instant(zone))),
        (sub, [zone, nowMs]) => {
          const now = new Date(nowMs);
          const usage = currentPeriod(now, zone, [sub]);
          const today = localDateOf(nowMs, zone);
          const active = sub.start <= today && (sub.end === undefined || today < sub.end);
          expect(usage.source).toBe(active ? 'subscription' : 'calendar_month');
          if (!active) return;
          // The invoice that covers `now`: the period starting in this local month or the one before.
          const ym = { year: Number(today.slice(0, 4)), month: Number(today.slice(5, 7)) };
          const invoices = [addMonths(ym, -1), ym]
            .map((m) => customerPeriod([sub], formatPeriod(m), zone))
            .filter((p) => p !== undefined && p.fromMs <= nowMs && nowMs < p.toMs);
          expect(invoices).toHaveLength(1);
          expect(usage.from.getTime()).toBe(invoices[0]?.fromMs);
          expect(usage.to.getTime()).toBe(invoices[0]?.toMs);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('invoice periods of consecutive months tile the subscription without gaps or overlaps', () => {
    fc.assert(
      fc.property(subscription, fc.constantFrom(...ZONES), (sub, zone) => {
        const first = { year: Number(sub.start.slice(0, 4)), month: Number(sub.start.slice(5, 7)) };
        const periods = Array.from({ length: 24 }, (_, i) =>
          customerPeriod([sub], formatPeriod(addMonths(first, i - 1)), zone),
        ).filter((p) => p !== undefined);
        expect(periods.length).toBeGreaterThan(0);
        expect(periods[0]?.subscriptions[0]?.start).toBe(sub.start);
        for (let i = 1; i < periods.length; i++) expect(periods[i]?.fromMs).toBe(periods[i - 1]?.toMs);
        if (sub.end !== undefined && periods.length < 24)
          expect(periods.at(-1)?.subscriptions[0]?.end).toBe(sub.end);
      }),
      { numRuns: 500 },
    );
  });
});
