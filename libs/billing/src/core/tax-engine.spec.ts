import type { TaxEngine, TaxRequest } from '@tally/pricing';
import { createBillingServices } from './billing-services';
import { issueOctober, world } from '../test-support/finance-example';

/**
 * An external tax engine behind the asynchronous `TaxEngine` port, on the finance example of
 * docs/finance.md (plan change, coupon, expiring grant): the engine is asked once per invoice, with
 * each line's taxable amount after discounts and credits (556, 556, 2336, 1112), and its answer is the
 * invoice's taxes. Here it charges 10 % per line (half up): 55.6 → 56, 56, 233.6 → 234, 111.2 → 111.
 */
describe('an external tax engine (async port)', () => {
  const credits = [
    {
      type: 'grant',
      id: 'g1',
      currency: 'USD',
      amountMinor: '2000',
      effective: '2026-10-01',
      expires: '2026-10-21',
    },
  ];

  it('taxes the invoice with the engine answer: 8200 − 1640 − 2000 + 457 = 5017', async () => {
    const { ports } = world(credits);
    const requests: TaxRequest[] = [];
    const engine: TaxEngine = {
      async calculate(request) {
        requests.push(request);
        await new Promise((r) => setTimeout(r, 5));
        return {
          lines: request.lines.map((l) => ({
            lineId: l.lineId,
            taxes: [
              {
                rateId: 'engine-vat',
                name: 'Engine VAT 10 %',
                percent: '10',
                inclusive: false,
                baseMinor: l.taxableMinor,
                amountMinor: ((BigInt(l.taxableMinor) * 10n + 50n) / 100n).toString(),
              },
            ],
          })),
        };
      },
    };
    const [outcome] = await issueOctober(createBillingServices({ ...ports, taxEngine: engine }));
    expect(requests.map((r) => r.lines.map((l) => l.taxableMinor))).toEqual([['556', '556', '2336', '1112']]);
    expect(requests[0].profile).toEqual({ jurisdiction: 'US-NY' });
    expect(outcome).toMatchObject({ status: 'issued', totalMinor: '5017' });
    const f = ports.ledger.documents[0]?.finance;
    expect([f?.taxExclusiveMinor, f?.taxes.map((t) => [t.rateId, t.amountMinor])]).toEqual([
      '457',
      [['engine-vat', '457']],
    ]);
  });

  it('without an engine the tenant rate table taxes it (4 %: 22 + 22 + 93 + 44 = 181, total 4741)', async () => {
    const { services } = world(credits);
    const [outcome] = await issueOctober(services);
    expect(outcome).toMatchObject({ status: 'issued', totalMinor: '4741' });
  });
});
