import { ValidationFailedError } from '@tally/errors';
import { API_KEY_PATTERN, apiKeyId, generateApiKey } from './api-key-store';
import {
  alertRuleSchema,
  customerSchema,
  customerTimeZone,
  meterInputSchema,
  parseEntity,
  planSchema,
  subscriptionSchema,
  tenantSchema,
} from './entities';
import { catalogKeys, decodeCustomerId, encodeCustomerId, parseCatalogKey } from './keys';

function codes(schema: Parameters<typeof parseEntity>[0], input: unknown): string[] {
  try {
    parseEntity(schema, input, 'thing');
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationFailedError);
    return (e as ValidationFailedError).details.map((d) => `${d.field}:${d.code}`);
  }
}

describe('tenant', () => {
  it('fills defaults', () => {
    expect(
      parseEntity(
        tenantSchema,
        { id: 'acme', name: 'Acme', timezone: 'Europe/Berlin', currency: 'EUR' },
        'tenant',
      ),
    ).toEqual({
      id: 'acme',
      name: 'Acme',
      timezone: 'Europe/Berlin',
      currency: 'EUR',
      latenessLimitDays: 35,
      rateLimitPerSecond: 10_000,
      requireKnownCustomers: false,
    });
  });

  it('reports every bad field', () => {
    expect(
      codes(tenantSchema, {
        id: 'Acme Corp',
        name: 'Acme',
        timezone: 'Berlin',
        currency: 'usd',
        latenessLimitDays: -1,
        rateLimitPerSecond: 0,
        x: 1,
      }),
    ).toEqual([
      'id:INVALID_FORMAT',
      'timezone:INVALID_TIMEZONE',
      'currency:UNKNOWN_CURRENCY',
      'latenessLimitDays:OUT_OF_RANGE',
      'rateLimitPerSecond:OUT_OF_RANGE',
      'x:UNKNOWN_FIELD',
    ]);
    expect(codes(tenantSchema, { id: 'acme', name: 'A', timezone: 'UTC', currency: 'ZZZ' })).toEqual([
      'currency:UNKNOWN_CURRENCY',
    ]);
  });
});

describe('customer', () => {
  const c = { tenant: 'acme', id: 'cust 1/ü.😀', createdAt: '2026-01-01T00:00:00.000Z' };
  it('accepts any external id up to 256 characters', () => {
    expect(parseEntity(customerSchema, c, 'customer')).toEqual({ ...c, metadata: {} });
    expect(codes(customerSchema, { ...c, id: 'x'.repeat(257) })).toEqual(['id:TOO_LONG']);
    expect(codes(customerSchema, { ...c, id: 'a\u0000b' })).toEqual(['id:INVALID_STRING']);
    expect(codes(customerSchema, { ...c, id: '' })).toEqual(['id:TOO_SHORT']);
  });
  it('defaults its zone to the tenant', () => {
    expect(customerTimeZone({}, { timezone: 'Asia/Tokyo' })).toBe('Asia/Tokyo');
    expect(customerTimeZone({ timezone: 'UTC' }, { timezone: 'Asia/Tokyo' })).toBe('UTC');
  });
});

describe('meter', () => {
  it('accepts the Billingrails filter and reports paths', () => {
    const meter = {
      tenant: 'acme',
      key: 'plays',
      name: 'Plays',
      eventTypes: ['Song played'],
      aggregation: 'count',
    };
    expect(
      codes(meterInputSchema, {
        ...meter,
        filters: [{ value: 'USA', operator: 'in', property: ['country'] }],
      }),
    ).toEqual([]);
    expect(
      codes(meterInputSchema, {
        ...meter,
        aggregation: 'sum',
        filters: [{ property: 'x', operator: 'gt', value: 'big' }],
      }),
    ).toEqual(['filters[0].value:INVALID_DECIMAL', 'valueProperty:REQUIRED']);
  });
});

describe('plan', () => {
  it("uses pricing's validatePlan, with its paths and codes", () => {
    const plan = {
      tenant: 'acme',
      id: 'pro',
      name: 'Pro',
      currency: 'USD',
      charges: [{ id: 'calls', name: 'Calls', kind: 'per_unit', meter: 'calls', unitPrice: '-1' }],
    };
    expect(codes(planSchema, plan)).toEqual(['charges[0].unitPrice:NEGATIVE_PRICE']);
    expect(codes(planSchema, { ...plan, charges: [{ ...plan.charges[0], unitPrice: '0.01' }] })).toEqual([]);
  });
});

describe('subscription and alert rule', () => {
  it('checks dates', () => {
    const s = { tenant: 'acme', id: 's1', customer: 'c1', plan: 'pro', start: '2026-02-01' };
    expect(codes(subscriptionSchema, s)).toEqual([]);
    expect(codes(subscriptionSchema, { ...s, start: '2026-02-30' })).toEqual(['start:INVALID_DATE']);
    expect(codes(subscriptionSchema, { ...s, end: '2026-01-01', billingAnchorDay: 32 })).toEqual([
      'billingAnchorDay:OUT_OF_RANGE',
      'end:END_NOT_AFTER_START',
    ]);
  });

  it('checks thresholds and webhooks', () => {
    const r = { tenant: 'acme', id: 'r1', meter: 'calls', threshold: { kind: 'absolute', value: '1000' } };
    expect(codes(alertRuleSchema, r)).toEqual([]);
    expect(
      codes(alertRuleSchema, {
        ...r,
        threshold: { kind: 'percent_of_allowance', percent: 80, allowance: '1000.5' },
      }),
    ).toEqual([]);
    expect(
      codes(alertRuleSchema, {
        ...r,
        threshold: { kind: 'percent_of_allowance', percent: 0, allowance: '-1' },
        webhookUrl: 'ftp://x.example',
        webhookSecret: 'short',
      }),
    ).toEqual([
      'threshold.percent:OUT_OF_RANGE',
      'threshold.allowance:INVALID_FORMAT',
      'webhookUrl:INVALID_URL',
      'webhookSecret:TOO_SHORT',
    ]);
    expect(codes(alertRuleSchema, { ...r, threshold: { kind: 'relative', value: '1' } })).toEqual([
      'threshold.kind:INVALID_VALUE',
    ]);
  });
});

describe('keys', () => {
  it('encodes customer ids into one safe token and back', () => {
    for (const id of ['c1', 'a.b', 'a b/c', 'ü😀', '*', '>', '..', 'x'.repeat(256)]) {
      const token = encodeCustomerId(id);
      expect(token).toMatch(/^[-_A-Za-z0-9]+$/);
      expect(decodeCustomerId(token)).toBe(id);
      expect(parseCatalogKey(catalogKeys.customer('acme', id))).toEqual({
        kind: 'customer',
        tenant: 'acme',
        id,
      });
    }
  });

  it('parses every kind and ignores unknown keys', () => {
    expect(parseCatalogKey('tenant.acme')).toEqual({ kind: 'tenant', tenant: 'acme' });
    expect(parseCatalogKey('meter_version.acme.calls.12')).toEqual({
      kind: 'meter_version',
      tenant: 'acme',
      key: 'calls',
      version: 12,
    });
    expect(parseCatalogKey('plan.acme.pro')).toEqual({ kind: 'plan', tenant: 'acme', id: 'pro' });
    expect(parseCatalogKey('future.acme.x')).toBeUndefined();
  });
});

describe('API key format', () => {
  it('tally_<role>_<32 base62>, hashed as SHA-256 hex', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const key = generateApiKey('ingest');
      expect(key).toMatch(API_KEY_PATTERN);
      keys.add(key);
    }
    expect(keys.size).toBe(200);
    expect(apiKeyId('tally_admin_' + 'a'.repeat(32))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('finance terms in the catalog (docs/finance.md)', () => {
  const tenant = { id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' };

  it('accept tax rates, coupons and a customer billing section', () => {
    const t = parseEntity(
      tenantSchema,
      {
        ...tenant,
        taxRates: [{ id: 'ny', name: 'NY 4 %', jurisdiction: 'US-NY', percent: '4', inclusive: false }],
        coupons: [
          {
            id: 'launch',
            name: 'Launch',
            kind: 'percentage',
            percent: '20',
            duration: 'repeating',
            periods: 3,
          },
        ],
      },
      'tenant',
    );
    expect(t.coupons?.[0]?.id).toBe('launch');
    const c = parseEntity(
      customerSchema,
      {
        tenant: 'acme',
        id: 'c',
        createdAt: '2026-01-01T00:00:00Z',
        billing: {
          tax: { jurisdiction: 'US-NY-NYC', exemptRates: ['nyc'] },
          coupons: [{ coupon: 'launch', firstPeriod: '2026-10' }],
          credits: [
            {
              type: 'grant',
              id: 'g1',
              currency: 'USD',
              amountMinor: '5000',
              effective: '2026-10-01',
              recurrence: { everyMonths: 1 },
              rollover: { maxMinor: '500' },
            },
            { type: 'void', id: 'v1', grantId: 'g1', date: '2026-12-01' },
          ],
        },
      },
      'customer',
    );
    expect(c.billing?.credits).toHaveLength(2);
  });

  it('refuse bad terms with the failing field and a stable code', () => {
    const issues = (schema: Parameters<typeof parseEntity>[0], input: unknown) => {
      try {
        parseEntity(schema, input, 'x');
        return [];
      } catch (e) {
        return (e as ValidationFailedError).details.map((d) => [d.field, d.code]);
      }
    };
    expect(
      issues(tenantSchema, {
        ...tenant,
        taxRates: [{ id: 'bad', name: 'Bad', jurisdiction: 'US-NY', percent: '120', inclusive: false }],
        coupons: [
          { id: 'c1', name: 'C', kind: 'amount', amount: '10.005', currency: 'USD', duration: 'once' },
          { id: 'c1', name: 'C', kind: 'percentage', percent: '5', duration: 'repeating' },
        ],
      }),
    ).toEqual(
      expect.arrayContaining([
        ['taxRates[0].percent', 'NEGATIVE_AMOUNT'],
        ['coupons[0].amount', 'TOO_PRECISE_FOR_CURRENCY'],
        ['coupons[1].periods', 'REQUIRED'],
        ['coupons[1].id', 'DUPLICATE_ID'],
      ]),
    );
    expect(
      issues(customerSchema, {
        tenant: 'acme',
        id: 'c',
        createdAt: '2026-01-01T00:00:00Z',
        billing: {
          credits: [
            { type: 'grant', id: 'g', currency: 'USD', amountMinor: '12.5', effective: '2026-10-01' },
          ],
        },
      }),
    ).toEqual([['billing.credits[0].amountMinor', expect.any(String)]]);
  });
});
