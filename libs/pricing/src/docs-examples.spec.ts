/** The worked examples of docs/pricing.md, so the operator documentation cannot drift from the code. */
import { type Charge, type Plan, priceUsage, validatePlan } from './index';

const charges: Charge[] = [
  { kind: 'flat', id: 'platform', name: 'Platform fee', amount: '49' },
  {
    kind: 'per_unit',
    id: 'api',
    name: 'API calls',
    meter: 'api_calls',
    unitPrice: '0.0004',
    freeUnits: '100000',
  },
  { kind: 'package', id: 'sms', name: 'SMS', meter: 'sms_sent', packageSize: '1000', packagePrice: '7.5' },
  {
    kind: 'graduated',
    id: 'storage',
    name: 'Storage',
    meter: 'storage_gb',
    tiers: [
      { upTo: '100', unitPrice: '0' },
      { upTo: '1000', unitPrice: '0.08' },
      { upTo: null, unitPrice: '0.05', flatFee: '10' },
    ],
  },
  {
    kind: 'volume',
    id: 'seats',
    name: 'Seats',
    meter: 'seats',
    tiers: [
      { upTo: '10', unitPrice: '12' },
      { upTo: '50', unitPrice: '10' },
      { upTo: null, unitPrice: '8' },
    ],
  },
];
const plan: Plan = { id: 'growth-2026', currency: 'USD', minimumCommitment: '100', maximum: '2000', charges };
const FULL = { daysInPeriod: 30, activeDays: 30 };

function amountOf(charge: Charge, quantity: string) {
  const line = priceUsage({
    plan: { id: 'p', currency: 'USD', charges: [charge] },
    usage: charge.kind === 'flat' ? {} : { [charge.meter]: quantity },
    period: FULL,
  }).lines[0];
  return [line.amount, line.amountMinor, line.packages ?? line.tiers?.map((t) => t.tier).join(',')];
}

describe('docs/pricing.md', () => {
  it('per_unit table', () => {
    const api = { ...charges[1], freeUnits: undefined } as Charge;
    expect(amountOf(api, '87654').slice(0, 2)).toEqual(['35.0616', '3506']);
    expect(amountOf(api, '1234567').slice(0, 2)).toEqual(['493.8268', '49383']);
  });

  it('package table', () => {
    expect(['0', '1', '1000', '2001'].map((q) => amountOf(charges[2], q))).toEqual([
      ['0', '0', '0'],
      ['7.5', '750', '1'],
      ['7.5', '750', '1'],
      ['22.5', '2250', '3'],
    ]);
  });

  it('graduated and volume examples', () => {
    expect(amountOf(charges[3], '1250.5')).toEqual(['94.525', '9452', '1,2,3']);
    expect(amountOf(charges[3], '50')).toEqual(['0', '0', '1']);
    expect(['10', '11', '51'].map((q) => amountOf(charges[4], q))).toEqual([
      ['120', '12000', '1'],
      ['110', '11000', '2'],
      ['408', '40800', '3'],
    ]);
  });

  it('the complete example, full period', () => {
    const r = priceUsage({
      plan,
      usage: { api_calls: '187654', sms_sent: '2001', storage_gb: '1250.5', seats: '11' },
      period: FULL,
    });
    expect(r.lines.map((l) => [l.chargeId, l.amount, l.amountMinor])).toEqual([
      ['platform', '49', '4900'],
      ['api', '35.0616', '3506'],
      ['sms', '22.5', '2250'],
      ['storage', '94.525', '9452'],
      ['seats', '110', '11000'],
    ]);
    expect([r.subtotalMinor, r.minimumTrueUpMinor, r.maximumAdjustmentMinor, r.totalMinor]).toEqual([
      '31108',
      '0',
      '0',
      '31108',
    ]);
  });

  it('the complete example, 12 of 31 days', () => {
    const r = priceUsage({
      plan,
      usage: { api_calls: '50000' },
      period: { daysInPeriod: 31, activeDays: 12 },
    });
    expect(r.lines[0]).toMatchObject({ amount: '18.967741935484', amountMinor: '1897' });
    expect(r.lines.at(-1)).toMatchObject({
      chargeId: 'minimum_true_up',
      amount: '81.03',
      amountMinor: '8103',
    });
    expect(r.totalMinor).toBe('10000');
  });

  it('the validation example', () => {
    const bad = {
      id: 'p',
      currency: 'usd',
      charges: [
        {
          kind: 'graduated',
          id: 'g',
          name: 'G',
          meter: 'm',
          tiers: [
            { upTo: '100', unitPrice: '0.1' },
            { upTo: '50', unitPrice: '-0.05' },
          ],
        },
      ],
    };
    expect(validatePlan(bad).map((i) => [i.field, i.code])).toEqual([
      ['currency', 'UNKNOWN_CURRENCY_FORMAT'],
      ['charges[0].tiers[1].unitPrice', 'NEGATIVE_PRICE'],
      ['charges[0].tiers[1].upTo', 'LAST_TIER_MUST_BE_UNBOUNDED'],
      ['charges[0].tiers[1].upTo', 'TIERS_NOT_ASCENDING'],
    ]);
  });
});
