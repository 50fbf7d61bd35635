import { TallyError } from '@tally/errors';
import {
  PRICING_ISSUE_CODES,
  type Plan,
  PricingError,
  type PricingIssue,
  assertValidPlan,
  isPricingError,
  priceUsage,
  validatePlan,
  validatePricingInput,
} from './index';

const valid: Plan = {
  id: 'pro',
  currency: 'USD',
  minimumCommitment: '50',
  maximum: '5000',
  charges: [
    { kind: 'flat', id: 'base', name: 'Base fee', amount: '49' },
    {
      kind: 'per_unit',
      id: 'calls',
      name: 'API calls',
      meter: 'api_calls',
      unitPrice: '0.0004',
      freeUnits: '10000',
    },
    { kind: 'package', id: 'sms', name: 'SMS', meter: 'sms', packageSize: '100', packagePrice: '1.5' },
    {
      kind: 'graduated',
      id: 'storage',
      name: 'Storage',
      meter: 'storage_gb',
      tiers: [
        { upTo: '100', unitPrice: '0.1', flatFee: '2' },
        { upTo: null, unitPrice: '0.05' },
      ],
    },
    { kind: 'volume', id: 'seats', name: 'Seats', meter: 'seats', tiers: [{ upTo: null, unitPrice: '10' }] },
  ],
};

/** The plan with `patch` applied to charge `index` (or to the plan when index is undefined). */
function withCharge(index: number, patch: Record<string, unknown>): unknown {
  const charges = valid.charges.map((c, i) => (i === index ? { ...c, ...patch } : c));
  return { ...valid, charges };
}

function codes(issues: PricingIssue[]): [string, string][] {
  return issues.map((i) => [i.field, i.code]);
}

describe('validatePlan', () => {
  it('accepts a valid plan of every charge kind', () => {
    expect(validatePlan(valid)).toEqual([]);
    expect(() => assertValidPlan(valid)).not.toThrow();
  });

  it('accepts an empty charge list and name/description/metadata labels', () => {
    expect(
      validatePlan({ id: 'p', currency: 'EUR', charges: [], name: 'Pro', metadata: { tier: 'gold' } }),
    ).toEqual([]);
    expect(
      validatePlan(withCharge(0, { description: 'Monthly platform fee', metadata: { sku: 'B-1' } })),
    ).toEqual([]);
  });

  it('TIERS_NOT_ASCENDING names the offending tier bound', () => {
    const plan = withCharge(3, {
      tiers: [
        { upTo: '100', unitPrice: '1' },
        { upTo: '100', unitPrice: '0.5' },
        { upTo: '50', unitPrice: '0.5' },
        { upTo: null, unitPrice: '0.1' },
      ],
    });
    expect(codes(validatePlan(plan))).toEqual([
      ['charges[3].tiers[1].upTo', 'TIERS_NOT_ASCENDING'],
      ['charges[3].tiers[2].upTo', 'TIERS_NOT_ASCENDING'],
    ]);
  });

  it('LAST_TIER_MUST_BE_UNBOUNDED and UNBOUNDED_TIER_NOT_LAST', () => {
    expect(codes(validatePlan(withCharge(4, { tiers: [{ upTo: '10', unitPrice: '1' }] })))).toEqual([
      ['charges[4].tiers[0].upTo', 'LAST_TIER_MUST_BE_UNBOUNDED'],
    ]);
    const plan = withCharge(3, {
      tiers: [
        { upTo: null, unitPrice: '1' },
        { upTo: '10', unitPrice: '1' },
      ],
    });
    expect(codes(validatePlan(plan))).toEqual([
      ['charges[3].tiers[0].upTo', 'UNBOUNDED_TIER_NOT_LAST'],
      ['charges[3].tiers[1].upTo', 'LAST_TIER_MUST_BE_UNBOUNDED'],
    ]);
  });

  it('TIERS_EMPTY, TIER_BOUND_NOT_POSITIVE, missing upTo', () => {
    expect(codes(validatePlan(withCharge(3, { tiers: [] })))).toEqual([['charges[3].tiers', 'TIERS_EMPTY']]);
    expect(
      codes(
        validatePlan(
          withCharge(3, {
            tiers: [
              { upTo: '0', unitPrice: '1' },
              { upTo: '-5', unitPrice: '1' },
              { unitPrice: '1' },
              { upTo: null, unitPrice: '1' },
            ],
          }),
        ),
      ),
    ).toEqual([
      ['charges[3].tiers[0].upTo', 'TIER_BOUND_NOT_POSITIVE'],
      ['charges[3].tiers[1].upTo', 'TIER_BOUND_NOT_POSITIVE'],
      ['charges[3].tiers[2].upTo', 'REQUIRED'],
    ]);
  });

  it('NEGATIVE_PRICE on every price and fee field', () => {
    const plan = {
      ...valid,
      charges: [
        { kind: 'flat', id: 'a', name: 'A', amount: '-1' },
        { kind: 'per_unit', id: 'b', name: 'B', meter: 'm', unitPrice: '-0.01' },
        { kind: 'package', id: 'c', name: 'C', meter: 'm', packageSize: '10', packagePrice: '-3' },
        {
          kind: 'volume',
          id: 'd',
          name: 'D',
          meter: 'm',
          tiers: [{ upTo: null, unitPrice: '-1', flatFee: '-2' }],
        },
      ],
    };
    expect(codes(validatePlan(plan))).toEqual([
      ['charges[0].amount', 'NEGATIVE_PRICE'],
      ['charges[1].unitPrice', 'NEGATIVE_PRICE'],
      ['charges[2].packagePrice', 'NEGATIVE_PRICE'],
      ['charges[3].tiers[0].unitPrice', 'NEGATIVE_PRICE'],
      ['charges[3].tiers[0].flatFee', 'NEGATIVE_PRICE'],
    ]);
  });

  it('"-0" is zero, not negative', () => {
    expect(validatePlan(withCharge(0, { amount: '-0' }))).toEqual([]);
  });

  it.each([
    [12.5, 'a JSON number'],
    ['1e3', 'plain notation'],
    ['.5', 'plain notation'],
    ['5.', 'plain notation'],
    ['+5', 'plain notation'],
    [' 5', 'plain notation'],
    ['1,5', 'plain notation'],
    ['NaN', 'plain notation'],
    ['Infinity', 'plain notation'],
    ['0x10', 'plain notation'],
    ['1'.repeat(31), 'more than 30'],
    [`0.${'1'.repeat(31)}`, 'more than 30'],
  ])('INVALID_DECIMAL for %p', (amount, hint) => {
    const issues = validatePlan(withCharge(0, { amount }));
    expect(codes(issues)).toEqual([['charges[0].amount', 'INVALID_DECIMAL']]);
    expect(issues[0].message).toContain(hint);
  });

  it('accepts the digit limits themselves and leading zeros', () => {
    expect(validatePlan(withCharge(0, { amount: `${'9'.repeat(30)}.${'9'.repeat(30)}` }))).toEqual([]);
    expect(validatePlan(withCharge(0, { amount: '0007.50' }))).toEqual([]);
  });

  it.each(['usd', 'US', 'USDT', '', 840, null])('UNKNOWN_CURRENCY_FORMAT for %p', (currency) => {
    expect(codes(validatePlan({ ...valid, currency }))).toEqual([['currency', 'UNKNOWN_CURRENCY_FORMAT']]);
  });

  it('accepts a well-formed currency code that is not in the table', () => {
    expect(validatePlan({ ...valid, currency: 'XYZ' })).toEqual([]);
  });

  it('PACKAGE_SIZE_NOT_POSITIVE and NEGATIVE_QUANTITY for freeUnits', () => {
    expect(codes(validatePlan(withCharge(2, { packageSize: '0', freeUnits: '-1' })))).toEqual([
      ['charges[2].freeUnits', 'NEGATIVE_QUANTITY'],
      ['charges[2].packageSize', 'PACKAGE_SIZE_NOT_POSITIVE'],
    ]);
  });

  it('DUPLICATE_CHARGE_ID and RESERVED_CHARGE_ID', () => {
    const plan = {
      ...valid,
      charges: [
        { kind: 'flat', id: 'base', name: 'A', amount: '1' },
        { kind: 'flat', id: 'base', name: 'B', amount: '1' },
        { kind: 'flat', id: 'minimum_true_up', name: 'C', amount: '1' },
      ],
    };
    const issues = validatePlan(plan);
    expect(codes(issues)).toEqual([
      ['charges[1].id', 'DUPLICATE_CHARGE_ID'],
      ['charges[2].id', 'RESERVED_CHARGE_ID'],
    ]);
    expect(issues[0].message).toContain('charges[0]');
  });

  it('UNKNOWN_CHARGE_KIND, REQUIRED fields, UNKNOWN_FIELD (typos)', () => {
    const plan = {
      id: '',
      currency: 'USD',
      charges: [
        { kind: 'tiered', id: 'a', name: 'A' },
        { kind: 'per_unit', id: 'b', name: 'B', unitPrice: '1' },
        { kind: 'per_unit', id: 'c', name: 'C', meter: 'm', unitPrice: '1', freeunits: '100' },
        {
          kind: 'package',
          id: 'd',
          name: 'D',
          meter: 'm',
          packageSize: '5',
          packagePrice: '1',
          unitPrice: '1',
        },
        'flat',
        { kind: 'flat', name: 'F', amount: '1' },
      ],
      minimum: '10',
    };
    expect(codes(validatePlan(plan))).toEqual([
      ['minimum', 'UNKNOWN_FIELD'],
      ['id', 'REQUIRED'],
      ['charges[0].kind', 'UNKNOWN_CHARGE_KIND'],
      ['charges[1].meter', 'REQUIRED'],
      ['charges[2].freeunits', 'UNKNOWN_FIELD'],
      ['charges[3].unitPrice', 'UNKNOWN_FIELD'],
      ['charges[4]', 'REQUIRED'],
      ['charges[5].id', 'REQUIRED'],
    ]);
  });

  it('REQUIRED for a missing charges array, a non-object plan, a missing price', () => {
    expect(codes(validatePlan({ id: 'p', currency: 'USD' }))).toEqual([['charges', 'REQUIRED']]);
    expect(codes(validatePlan(null))).toEqual([['', 'REQUIRED']]);
    expect(codes(validatePlan(withCharge(1, { unitPrice: undefined })))).toEqual([
      ['charges[1].unitPrice', 'REQUIRED'],
    ]);
  });

  it('minimum and maximum: NEGATIVE_AMOUNT, TOO_PRECISE_FOR_CURRENCY, MINIMUM_EXCEEDS_MAXIMUM', () => {
    expect(codes(validatePlan({ ...valid, minimumCommitment: '-1' }))).toEqual([
      ['minimumCommitment', 'NEGATIVE_AMOUNT'],
    ]);
    expect(codes(validatePlan({ ...valid, maximum: '10.005' }))).toEqual([
      ['maximum', 'TOO_PRECISE_FOR_CURRENCY'],
      ['minimumCommitment', 'MINIMUM_EXCEEDS_MAXIMUM'],
    ]);
    expect(codes(validatePlan({ ...valid, currency: 'JPY', minimumCommitment: '100.5' }))).toEqual([
      ['minimumCommitment', 'TOO_PRECISE_FOR_CURRENCY'],
    ]);
    expect(validatePlan({ ...valid, currency: 'BHD', minimumCommitment: '100.125' })).toEqual([]);
  });

  it('reports every issue at once, each with a message', () => {
    const issues = validatePlan({
      id: 'p',
      currency: 'usd',
      charges: [{ kind: 'flat', id: 'a', name: 'A', amount: 'x' }],
      maximum: '-1',
    });
    expect(codes(issues)).toEqual([
      ['currency', 'UNKNOWN_CURRENCY_FORMAT'],
      ['charges[0].amount', 'INVALID_DECIMAL'],
      ['maximum', 'NEGATIVE_AMOUNT'],
    ]);
    for (const issue of issues) {
      expect(issue.message.length).toBeGreaterThan(0);
      expect(PRICING_ISSUE_CODES).toContain(issue.code);
    }
  });

  it('assertValidPlan throws INVALID_PLAN with the issues', () => {
    expect.assertions(3);
    try {
      assertValidPlan(withCharge(4, { tiers: [] }));
    } catch (e) {
      expect(isPricingError(e)).toBe(true);
      expect((e as PricingError).code).toBe('INVALID_PLAN');
      expect(codes((e as PricingError).details)).toEqual([['charges[4].tiers', 'TIERS_EMPTY']]);
    }
  });
});

describe('priceUsage input checks', () => {
  const period = { daysInPeriod: 30, activeDays: 30 };

  function thrown(input: unknown): PricingError {
    try {
      priceUsage(input as never);
    } catch (e) {
      if (e instanceof PricingError) return e;
      throw e;
    }
    throw new Error('expected a PricingError');
  }

  it('throws INVALID_PLAN with paths under "plan."', () => {
    const e = thrown({ plan: withCharge(3, { tiers: [{ upTo: '5', unitPrice: '1' }] }), usage: {}, period });
    expect(e.name).toBe('PricingError');
    expect(e.code).toBe('INVALID_PLAN');
    expect(codes(e.details)).toEqual([['plan.charges[3].tiers[0].upTo', 'LAST_TIER_MUST_BE_UNBOUNDED']]);
    expect(e.message).toContain('plan.charges[3].tiers[0].upTo');
  });

  it('throws INVALID_USAGE for negative or malformed usage, naming the meter key', () => {
    const e = thrown({ plan: valid, usage: { api_calls: '-3', 'calls:eu': 1.5, storage_gb: '2.5' }, period });
    expect(e.code).toBe('INVALID_USAGE');
    expect(codes(e.details)).toEqual([
      ['usage.api_calls', 'NEGATIVE_QUANTITY'],
      ['usage["calls:eu"]', 'INVALID_DECIMAL'],
    ]);
  });

  it.each([
    [{ daysInPeriod: 30, activeDays: 31 }, ['period.activeDays']],
    [{ daysInPeriod: 0, activeDays: 0 }, ['period.daysInPeriod']],
    [{ daysInPeriod: 30.5, activeDays: 10 }, ['period.daysInPeriod']],
    [{ daysInPeriod: 30, activeDays: -1 }, ['period.activeDays']],
    [{ daysInPeriod: '30', activeDays: 10.25 }, ['period.daysInPeriod', 'period.activeDays']],
    [undefined, ['period']],
  ])('throws INVALID_PERIOD for %p', (badPeriod, fields) => {
    const e = thrown({ plan: valid, usage: {}, period: badPeriod });
    expect(e.code).toBe('INVALID_PERIOD');
    expect(e.details.map((d) => d.field)).toEqual(fields);
    expect(e.details.every((d) => d.code === 'INVALID_PERIOD')).toBe(true);
  });

  it('lists plan, period and usage issues together; the code names the plan first', () => {
    const e = thrown({
      plan: { ...valid, currency: 'dollars' },
      usage: { x: 'lots' },
      period: { daysInPeriod: 30, activeDays: 40 },
    });
    expect(e.code).toBe('INVALID_PLAN');
    expect(codes(e.details)).toEqual([
      ['plan.currency', 'UNKNOWN_CURRENCY_FORMAT'],
      ['period.activeDays', 'INVALID_PERIOD'],
      ['usage.x', 'INVALID_DECIMAL'],
    ]);
  });

  it('throws INVALID_ARGUMENT for a non-object input and REQUIRED for missing usage', () => {
    expect(thrown(null).code).toBe('INVALID_ARGUMENT');
    expect(codes(thrown({ plan: valid, period }).details)).toEqual([['usage', 'REQUIRED']]);
  });

  it('is a TallyError that maps to HTTP 422 with the issues as details', () => {
    const e = thrown({ plan: valid, usage: { seats: '-1' }, period });
    expect(e).toBeInstanceOf(TallyError);
    expect(e.httpStatus).toBe(422);
    expect(e.toBody()).toEqual({
      error: {
        code: 'INVALID_USAGE',
        message: expect.any(String),
        details: [{ field: 'usage.seats', code: 'NEGATIVE_QUANTITY', message: expect.any(String) }],
      },
    });
  });

  it('validatePricingInput returns the same issues without throwing', () => {
    expect(codes(validatePricingInput({ plan: valid, usage: { seats: 'x' }, period }))).toEqual([
      ['usage.seats', 'INVALID_DECIMAL'],
    ]);
    expect(validatePricingInput({ plan: valid, usage: { seats: '3' }, period })).toEqual([]);
  });
});
