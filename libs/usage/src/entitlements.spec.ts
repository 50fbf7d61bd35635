import type { AlertRule, Plan, Subscription } from '@tally/catalog';
import { entitlementLimit, isAllowed } from './entitlements';

const subscription: Subscription = {
  tenant: 'acme',
  id: 'sub',
  customer: 'c1',
  plan: 'growth',
  start: '2026-01-01',
};
const plan = (charges: Array<Record<string, unknown>>): Plan => ({
  tenant: 'acme',
  id: 'growth',
  name: 'Growth',
  currency: 'USD',
  charges,
});
const rule = (overrides: Partial<AlertRule>): AlertRule => ({
  tenant: 'acme',
  id: 'r',
  meter: 'api',
  threshold: { kind: 'absolute', value: '700' },
  ...overrides,
});
const base = { series: 'api', meter: 'api', customer: 'c1', alertRules: [] as AlertRule[] };

describe('entitlement limits', () => {
  it('free units of the plan charge on exactly this series', () => {
    const p = plan([
      { id: 'other', kind: 'per_unit', meter: 'api:eu', unitPrice: '1', freeUnits: '5' },
      { id: 'api', kind: 'per_unit', meter: 'api', unitPrice: '0.01', freeUnits: '1000' },
    ]);
    expect(entitlementLimit({ ...base, subscription, plan: p })).toEqual({
      limit: '1000',
      source: { kind: 'plan_free_units', subscription: 'sub', plan: 'growth', charge: 'api' },
    });
  });

  it('the upper bound of a free first tier; the smallest allowance when several charges have one', () => {
    const tiers = (first: Record<string, unknown>) => [first, { upTo: null, unitPrice: '0.1' }];
    const free = plan([
      { id: 'g', kind: 'graduated', meter: 'api', tiers: tiers({ upTo: '500', unitPrice: '0' }) },
    ]);
    expect(entitlementLimit({ ...base, subscription, plan: free })).toMatchObject({
      limit: '500',
      source: { kind: 'plan_free_tier' },
    });
    const paid = plan([
      { id: 'g', kind: 'volume', meter: 'api', tiers: tiers({ upTo: '500', unitPrice: '0.2' }) },
    ]);
    expect(entitlementLimit({ ...base, subscription, plan: paid })).toBeUndefined();
    const fee = plan([
      {
        id: 'g',
        kind: 'graduated',
        meter: 'api',
        tiers: tiers({ upTo: '500', unitPrice: '0', flatFee: '10' }),
      },
    ]);
    expect(entitlementLimit({ ...base, subscription, plan: fee })).toBeUndefined();
    const both = plan([
      { id: 'a', kind: 'per_unit', meter: 'api', unitPrice: '1', freeUnits: '2000' },
      { id: 'b', kind: 'graduated', meter: 'api', tiers: tiers({ upTo: '1500.5', unitPrice: '0.000' }) },
    ]);
    expect(entitlementLimit({ ...base, subscription, plan: both })).toMatchObject({
      limit: '1500.5',
      source: { charge: 'b' },
    });
    const zero = plan([{ id: 'a', kind: 'per_unit', meter: 'api', unitPrice: '1', freeUnits: '0' }]);
    expect(entitlementLimit({ ...base, subscription, plan: zero })).toBeUndefined();
  });

  it('else alert rules: the customer’s own first, allowances of percentage rules, the smallest', () => {
    const rules = [
      rule({ id: 'all', threshold: { kind: 'absolute', value: '300' } }),
      rule({
        id: 'mine',
        customer: 'c1',
        threshold: { kind: 'percent_of_allowance', percent: 80, allowance: '900' },
      }),
      rule({ id: 'mine-too', customer: 'c1', threshold: { kind: 'absolute', value: '950' } }),
      rule({ id: 'other', customer: 'c2', threshold: { kind: 'absolute', value: '1' } }),
      rule({ id: 'profile', profile: 'eu', threshold: { kind: 'absolute', value: '2' } }),
    ];
    expect(entitlementLimit({ ...base, alertRules: rules })).toEqual({
      limit: '900',
      source: { kind: 'alert_rule', rule: 'mine' },
    });
    expect(entitlementLimit({ ...base, customer: 'c3', alertRules: rules })).toEqual({
      limit: '300',
      source: { kind: 'alert_rule', rule: 'all' },
    });
    expect(entitlementLimit({ ...base, series: 'api:eu', profile: 'eu', alertRules: rules })?.limit).toBe(
      '2',
    );
    // The plan wins over rules.
    const p = plan([{ id: 'api', kind: 'per_unit', meter: 'api', unitPrice: '1', freeUnits: '5000' }]);
    expect(entitlementLimit({ ...base, subscription, plan: p, alertRules: rules })?.limit).toBe('5000');
  });

  it('usage is allowed while below the limit', () => {
    expect(isAllowed('999.999', '1000')).toBe(true);
    expect(isAllowed('1000', '1000')).toBe(false);
    expect(isAllowed('123456789', undefined)).toBe(true);
  });
});
