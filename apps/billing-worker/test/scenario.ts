import type { BillingHarness } from './billing-harness';

/**
 * October 2026 for five customers of one tenant, with the amounts worked out by hand (plan `pro`:
 * $10 flat, calls $0.05 after 2 free, tokens graduated $0.001 up to 1000 then $0.0005, storage $1 per
 * GB at the monthly peak):
 *
 * - `a` (UTC, since January): 5 calls → 3 × 0.05 = 0.15; 1500 tokens → 1.00 + 0.25 = 1.25; peak 7 GB →
 *   7.00; base 10.00. Total **18.40** (1840). Events of November are not billed.
 * - `b` (America/New_York, from 16 October, anchor day 1): base prorated 10 × 16/31 = 5.1613 → 516;
 *   2 calls (one at 23:30 on 31 October New York time, 03:30 UTC on 1 November) all free; 200 tokens →
 *   0.20. Total **5.36** (536). The call at 01:30 New York time on 1 November is November's.
 * - `c` (Asia/Tokyo, since September): 3 calls (one at 00:30 Tokyo time on 1 October, 15:30 UTC on 30
 *   September) → 1 × 0.05; peak 2 GB → 2.00; base 10.00. Total **12.05** (1205). The call at 01:00
 *   Tokyo time on 1 November is November's.
 * - `d` has events but no subscription, `e` a subscription that ended in September: no invoice.
 */
export const OCTOBER = '2026-10';
/** A run at this time (look-back 48 h) finds October ended for all three zones. */
export const RUN_AT = '2026-11-01T06:00:00.000Z';
export const EXPECTED_TOTALS: Record<string, string> = { a: '1840', b: '536', c: '1205' };

export async function seedOctober(h: BillingHarness, tenant: string): Promise<void> {
  await h.customer({ tenant, id: 'a' }, { start: '2026-01-01' });
  await h.customer(
    { tenant, id: 'b', timezone: 'America/New_York' },
    { start: '2026-10-16', billingAnchorDay: 1 },
  );
  await h.customer({ tenant, id: 'c', timezone: 'Asia/Tokyo' }, { start: '2026-09-01' });
  await h.customer({ tenant, id: 'd' });
  await h.customer({ tenant, id: 'e' }, { start: '2026-06-01', end: '2026-09-15' });
  await h.events(tenant, [
    ...[
      '2026-10-01T00:00:00Z',
      '2026-10-02T10:00:00Z',
      '2026-10-10T10:00:00Z',
      '2026-10-20T10:00:00Z',
      '2026-10-31T23:59:59Z',
    ].map((at) => ({ customer: 'a', type: 'call', at })),
    { customer: 'a', type: 'call', at: '2026-11-01T00:00:00Z' },
    { customer: 'a', type: 'completion', at: '2026-10-05T00:00:00Z', properties: { tokens: '1000' } },
    { customer: 'a', type: 'completion', at: '2026-10-06T00:00:00Z', properties: { tokens: '500' } },
    { customer: 'a', type: 'storage', at: '2026-10-07T00:00:00Z', properties: { gb: '3' } },
    { customer: 'a', type: 'storage', at: '2026-10-08T00:00:00Z', properties: { gb: '7' } },
    { customer: 'a', type: 'page_view', at: '2026-10-08T00:00:00Z' },
    { customer: 'b', type: 'call', at: '2026-10-20T12:00:00Z' },
    { customer: 'b', type: 'call', at: '2026-11-01T03:30:00Z' },
    { customer: 'b', type: 'call', at: '2026-11-01T05:30:00Z' },
    { customer: 'b', type: 'completion', at: '2026-10-21T12:00:00Z', properties: { tokens: '200' } },
    { customer: 'c', type: 'call', at: '2026-09-30T15:30:00Z' },
    { customer: 'c', type: 'call', at: '2026-10-15T10:00:00Z' },
    { customer: 'c', type: 'call', at: '2026-10-31T14:00:00Z' },
    { customer: 'c', type: 'call', at: '2026-10-31T16:00:00Z' },
    { customer: 'c', type: 'storage', at: '2026-10-15T10:00:00Z', properties: { gb: '2' } },
    { customer: 'd', type: 'call', at: '2026-10-15T10:00:00Z' },
    { customer: 'e', type: 'call', at: '2026-10-15T10:00:00Z' },
  ]);
}
