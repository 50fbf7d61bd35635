/**
 * A simulation of a period with finance terms: the world of `core/finance.spec.ts` (a plan changed on
 * 11 October, a 20 % coupon, a prepaid grant that expires on 21 October, New York's 4 % tax), whose
 * invoice is worked out by hand there (47.41 USD).
 */
import { world, issueOctober } from '../test-support/finance-example';

describe('a price simulation of a period with finance terms', () => {
  it('under the unchanged plans equals the billed total (coupon, credit draw and tax included), to the cent', async () => {
    const { services } = world([
      {
        type: 'grant',
        id: 'g1',
        currency: 'USD',
        amountMinor: '2000',
        effective: '2026-10-01',
        expires: '2026-10-21',
      },
    ]);
    await issueOctober(services);
    const unchanged = await services.simulator.run({
      tenant: 'acme',
      periods: ['2026-10'],
      customers: { all: true },
      changes: [
        { plan: 'starter', patch: {} },
        { plan: 'pro', patch: {} },
      ],
    });
    expect(unchanged.results.map((r) => [r.customer, r.status, r.billedMinor, r.simulatedMinor])).toEqual([
      ['c', 'simulated', '4741', '4741'],
    ]);
    // Pro's calls at 0.01: its line 2000 → 4000; 20 % off → 3200; the credit draw stays 2000; tax 4 % on the rest.
    const dearer = await services.simulator.run({
      tenant: 'acme',
      periods: ['2026-10'],
      customers: { all: true },
      changes: [
        {
          plan: 'pro',
          patch: {
            charges: [
              { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.01' },
            ],
          },
        },
      ],
    });
    const [c] = dearer.results;
    expect(c.lines.find((l) => l.chargeId === 'calls' && l.plan === 'pro')).toMatchObject({
      billedMinor: '2000',
      simulatedMinor: '4000',
    });
    // Subtotal 10200 − coupon 2040 − credit 2000 = 6160 taxable; 4 % ≈ 246 (rounded per line) → about 8406.
    expect(BigInt(c.simulatedMinor) - BigInt(c.billedMinor)).toBeGreaterThan(1600n);
    expect(BigInt(c.simulatedMinor) - BigInt(c.billedMinor)).toBeLessThan(1700n);
  });
});
