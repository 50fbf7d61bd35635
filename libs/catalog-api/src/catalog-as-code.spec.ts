import { BadRequestError, ConflictError, ValidationFailedError } from '@tally/errors';
import {
  applyCatalogPlan,
  exportCatalog,
  parseCatalogDocument,
  planCatalogApply,
  renderCatalogYaml,
} from './catalog-as-code';
import { InMemoryCatalog } from './testing/in-memory-catalog';

const YAML_DOC = `
tenant: acme
customers:
  - id: acct_1
    name: Globex
    metadata: { crm: "0042" }
  - id: "globex/eu west"
meters:
  - key: plays
    name: Plays
    eventTypes: [play]
    aggregation: count
plans:
  - id: growth
    name: Growth
    currency: USD
    charges:
      - { id: plays, name: Plays, kind: per_unit, meter: plays, unitPrice: "0.001" }
subscriptions:
  - { id: sub_1, customer: acct_1, plan: growth, start: "2026-02-01" }
alertRules:
  - id: plays-high
    meter: plays
    threshold: { kind: absolute, value: "5000" }
`;

async function seeded(): Promise<InMemoryCatalog> {
  const store = new InMemoryCatalog();
  await store.putTenant({ id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' });
  return store;
}

function issuesOf(fn: () => unknown): Promise<Array<[string, string]>> {
  return Promise.resolve()
    .then(fn)
    .then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => {
        expect(e).toBeInstanceOf(ValidationFailedError);
        return (e as ValidationFailedError).details.map((d) => [d.field, d.code] as [string, string]);
      },
    );
}

describe('parseCatalogDocument', () => {
  it('reads the tenant from the document or the override', () => {
    expect(parseCatalogDocument('tenant: acme').tenant).toBe('acme');
    expect(parseCatalogDocument('customers: []', 'acme')).toMatchObject({
      tenant: 'acme',
      customers: [],
      meters: [],
    });
  });

  it('refuses a missing, invalid or contradicting tenant', async () => {
    expect(await issuesOf(() => parseCatalogDocument('customers: []'))).toEqual([['tenant', 'REQUIRED']]);
    expect(await issuesOf(() => parseCatalogDocument('tenant: acme', 'globex'))).toEqual([
      ['tenant', 'TENANT_MISMATCH'],
    ]);
    expect(await issuesOf(() => parseCatalogDocument('tenant: Not Valid'))).toEqual([
      ['tenant', 'INVALID_FORMAT'],
    ]);
  });

  it('names unknown sections and sections of the wrong shape', async () => {
    expect(await issuesOf(() => parseCatalogDocument('tenant: acme\ncustomer: []\nmeters: {}\n'))).toEqual([
      ['meters', 'INVALID_TYPE'],
      ['customer', 'UNKNOWN_FIELD'],
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(() => parseCatalogDocument('tenant: acme\ncustomers: [\n  - id: x')).toThrow(BadRequestError);
    // A duplicate key must be refused, not silently resolved to the last value.
    expect(() => parseCatalogDocument('tenant: acme\ntenant: globex')).toThrow(
      expect.objectContaining({
        name: BadRequestError.name,
        code: 'INVALID_YAML',
        message: expect.stringMatching(/line 2/),
      }),
    );
  });
});

describe('catalog apply', () => {
  it('creates everything in dependency order, then changes nothing the second time', async () => {
    const store = await seeded();
    const doc = parseCatalogDocument(YAML_DOC);
    const first = await applyCatalogPlan(store, await planCatalogApply(store, doc));
    expect(first.map((c) => `${c.action} ${c.kind} ${c.id}`)).toEqual([
      'create customer acct_1',
      'create customer globex/eu west',
      'create meter plays',
      'create plan growth',
      'create subscription sub_1',
      'create alert rule plays-high',
    ]);
    expect(first[2].version).toBe(1);
    const revision = store.lastRevision;

    const second = await planCatalogApply(store, parseCatalogDocument(YAML_DOC));
    expect(second.changes.every((c) => c.action === 'unchanged')).toBe(true);
    await applyCatalogPlan(store, second);
    expect(store.lastRevision).toBe(revision);
  });

  it('updates only what differs and names the changed fields', async () => {
    const store = await seeded();
    await applyCatalogPlan(store, await planCatalogApply(store, parseCatalogDocument(YAML_DOC)));
    const changed = YAML_DOC.replace(
      'aggregation: count',
      'aggregation: sum\n    valueProperty: seconds',
    ).replace('name: Globex', 'name: Globex Corp');
    const plan = await planCatalogApply(store, parseCatalogDocument(changed));
    expect(plan.changes.filter((c) => c.action !== 'unchanged').map((c) => [c.kind, c.id, c.fields])).toEqual(
      [
        ['customer', 'acct_1', ['name']],
        ['meter', 'plays', ['aggregation', 'valueProperty']],
      ],
    );
    const applied = await applyCatalogPlan(store, plan);
    expect(applied.find((c) => c.kind === 'meter')?.version).toBe(2);
    // createdAt is the store's and survives updates that do not declare it.
    expect((await store.getCustomer('acme', 'acct_1'))?.value.createdAt).toBe('2026-01-01T00:00:00.000Z');
  });

  it('does not see a difference in field order', async () => {
    const store = await seeded();
    await applyCatalogPlan(store, await planCatalogApply(store, parseCatalogDocument(YAML_DOC)));
    const reordered = YAML_DOC.replace(
      '{ id: plays, name: Plays, kind: per_unit, meter: plays, unitPrice: "0.001" }',
      '{ unitPrice: "0.001", meter: plays, kind: per_unit, name: Plays, id: plays }',
    );
    const plan = await planCatalogApply(store, parseCatalogDocument(reordered));
    expect(plan.changes.filter((c) => c.action !== 'unchanged')).toEqual([]);
  });

  it('validates the whole document before writing anything, with document paths', async () => {
    const store = await seeded();
    const bad = `
tenant: acme
customers:
  - { id: c1, timezone: mars/olympus }
  - { id: c1 }
meters:
  - { key: plays, name: Plays, eventTypes: [play], aggregation: countt }
plans:
  - id: p
    name: P
    currency: USD
    charges:
      - { id: x, name: X, kind: per_unit, meter: nope, unitPrice: 0.001 }
      - { id: y, name: Y, kind: flat, amount: "1" }
subscriptions:
  - { id: s, customer: ghost, plan: p, start: "2026-02-30" }
alertRules:
  - { id: r, tenant: globex, meter: plays, threshold: { kind: absolute, value: "1" } }
`;
    expect(await issuesOf(() => planCatalogApply(store, parseCatalogDocument(bad)))).toEqual([
      ['customers[0].timezone', 'INVALID_TIMEZONE'],
      ['customers[1].id', 'DUPLICATE_ID'],
      ['meters[0].aggregation', 'INVALID_VALUE'],
      ['plans[0].charges[0].unitPrice', 'INVALID_DECIMAL'],
      ['subscriptions[0].start', 'INVALID_DATE'],
      ['alertRules[0].tenant', 'TENANT_MISMATCH'],
      ['plans[0].charges[0].meter', 'UNKNOWN_METER'],
      ['subscriptions[0].customer', 'UNKNOWN_CUSTOMER'],
    ]);
    expect(store.lastRevision).toBe(1);
  });

  it('resolves references to entities that are stored but not declared', async () => {
    const store = await seeded();
    await applyCatalogPlan(store, await planCatalogApply(store, parseCatalogDocument(YAML_DOC)));
    const onlySubs =
      'tenant: acme\nsubscriptions:\n  - { id: sub_2, customer: "globex/eu west", plan: growth, start: "2026-03-01" }';
    const plan = await planCatalogApply(store, parseCatalogDocument(onlySubs));
    expect(plan.changes.map((c) => [c.action, c.id])).toEqual([['create', 'sub_2']]);
  });

  it('needs the tenant to exist or be declared with its settings', async () => {
    const store = new InMemoryCatalog();
    expect(await issuesOf(async () => planCatalogApply(store, parseCatalogDocument('tenant: acme')))).toEqual(
      [['settings', 'UNKNOWN_TENANT']],
    );
    const withSettings = 'tenant: acme\nsettings: { name: Acme, timezone: UTC, currency: USD }\n';
    const applied = await applyCatalogPlan(
      store,
      await planCatalogApply(store, parseCatalogDocument(withSettings)),
    );
    expect(applied.map((c) => [c.action, c.kind])).toEqual([['create', 'tenant']]);
    const again = await planCatalogApply(store, parseCatalogDocument(withSettings));
    expect(again.changes.map((c) => c.action)).toEqual(['unchanged']);
  });

  it('fails instead of overwriting a change made between planning and applying', async () => {
    const store = await seeded();
    await applyCatalogPlan(store, await planCatalogApply(store, parseCatalogDocument(YAML_DOC)));
    const plan = await planCatalogApply(
      store,
      parseCatalogDocument(YAML_DOC.replace('name: Globex', 'name: G')),
    );
    await store.putCustomer({ tenant: 'acme', id: 'acct_1', name: 'changed by someone else' });
    await expect(applyCatalogPlan(store, plan)).rejects.toBeInstanceOf(ConflictError);
  });

  it('exports a document that applies with no changes', async () => {
    const store = await seeded();
    await applyCatalogPlan(store, await planCatalogApply(store, parseCatalogDocument(YAML_DOC)));
    const yaml = renderCatalogYaml(await exportCatalog(store, 'acme'));
    expect(yaml).toContain('unitPrice: "0.001"');
    expect(yaml).not.toContain('createdAt');
    expect(yaml).not.toContain('version');
    const plan = await planCatalogApply(store, parseCatalogDocument(yaml));
    expect(plan.changes).toHaveLength(7);
    expect(plan.changes.every((c) => c.action === 'unchanged')).toBe(true);
  });

  it('never exports a webhook secret, and applying the export keeps the stored one (docs/security.md#webhooks)', async () => {
    const store = await seeded();
    const secret = 'whsec_c2VjcmV0LW5ldmVyLWV4cG9ydGVkLTEyMzQ1Ng==';
    const withHook = YAML_DOC.replace(
      'threshold: { kind: absolute, value: "5000" }',
      `threshold: { kind: absolute, value: "5000" }\n    webhookUrl: https://hooks.example.com/tally\n    webhookSecret: "${secret}"`,
    );
    await applyCatalogPlan(store, await planCatalogApply(store, parseCatalogDocument(withHook)));
    const yaml = renderCatalogYaml(await exportCatalog(store, 'acme'));
    expect(yaml).not.toContain(secret);
    expect(yaml).not.toContain('webhookSecret:');
    expect(yaml).toContain('webhookSecretSet: true');
    expect(yaml).toContain('webhookUrl: https://hooks.example.com/tally');

    const plan = await planCatalogApply(store, parseCatalogDocument(yaml));
    expect(plan.changes.filter((c) => c.action !== 'unchanged')).toEqual([]);
    const rule = (await store.listAlertRules('acme'))[0].value;
    expect(rule.webhookSecret).toBe(secret);

    // Rotation through the document: a declared secret replaces the stored one.
    const rotated = yaml.replace('webhookSecretSet: true', 'webhookSecret: whsec_cm90YXRlZC1zZWNyZXQtMTIzNDU2Nzg5MA==');
    const rotate = await planCatalogApply(store, parseCatalogDocument(rotated));
    expect(rotate.changes.filter((c) => c.action === 'update').map((c) => [c.id, c.fields])).toEqual([
      ['plays-high', ['webhookSecret']],
    ]);
    await applyCatalogPlan(store, rotate);
    expect((await store.listAlertRules('acme'))[0].value.webhookSecret).toBe('whsec_cm90YXRlZC1zZWNyZXQtMTIzNDU2Nzg5MA==');
  });
});

describe('catalog as code: finance terms (docs/finance.md)', () => {
  const FINANCE_DOC = `
tenant: acme
settings:
  name: Acme
  timezone: UTC
  currency: USD
  taxRates:
    - { id: ny, name: "NY sales tax 4 %", jurisdiction: US-NY, percent: "4", inclusive: false }
  coupons:
    - { id: launch, name: "Launch 20 %", kind: percentage, percent: "20", duration: repeating, periods: 3 }
customers:
  - id: acct_42
    billing:
      tax: { jurisdiction: US-NY }
      coupons: [{ coupon: launch, firstPeriod: "2026-10" }]
      credits:
        - { type: grant, id: g1, currency: USD, amountMinor: "2000", effective: "2026-10-01", expires: "2026-10-21" }
meters:
  - { key: calls, name: Calls, eventTypes: [call], aggregation: count }
plans:
  - id: pro
    name: Pro
    currency: USD
    proration: second
    segmentTiers: carry_over
    charges:
      - { id: calls, name: Calls, kind: per_unit, meter: calls, unitPrice: "0.005" }
`;

  it('applies tax rates, coupons, customer billing terms and plan change settings, then changes nothing', async () => {
    const store = await seeded();
    const applied = await applyCatalogPlan(
      store,
      await planCatalogApply(store, parseCatalogDocument(FINANCE_DOC)),
    );
    expect(applied.map((c) => [c.action, c.kind])).toEqual([
      ['update', 'tenant'],
      ['create', 'customer'],
      ['create', 'meter'],
      ['create', 'plan'],
    ]);
    expect((await store.getTenant('acme'))?.value.coupons?.[0]?.id).toBe('launch');
    expect((await store.getCustomer('acme', 'acct_42'))?.value.billing?.credits?.[0]).toMatchObject({
      id: 'g1',
      amountMinor: '2000',
    });
    expect((await store.getPlan('acme', 'pro'))?.value.segmentTiers).toBe('carry_over');
    const again = await planCatalogApply(store, parseCatalogDocument(FINANCE_DOC));
    expect(again.changes.every((c) => c.action === 'unchanged')).toBe(true);
  });

  it('refuses bad terms with document paths before writing anything', async () => {
    const store = await seeded();
    const bad = FINANCE_DOC.replace('percent: "20"', 'percent: "120"').replace(
      'amountMinor: "2000"',
      'amountMinor: "20.00"',
    );
    expect(await issuesOf(async () => planCatalogApply(store, parseCatalogDocument(bad)))).toEqual(
      expect.arrayContaining([
        ['settings.coupons[0].percent', 'NEGATIVE_AMOUNT'],
        ['customers[0].billing.credits[0].amountMinor', expect.any(String)],
      ]),
    );
    expect(await store.getCustomer('acme', 'acct_42')).toBeUndefined();
  });

  it('applies a plan change and a trial as dated subscriptions with their history, and refuses a trial ending before the start', async () => {
    const store = await seeded();
    const doc = `${FINANCE_DOC}subscriptions:
  - id: s1
    customer: acct_42
    plan: pro
    start: "2026-10-01"
    end: "2026-10-11"
    trialEnd: "2026-10-08"
    history:
      - { version: 1, action: created, effective: "2026-10-01", recordedAt: "2026-10-01T00:00:00.000Z", plan: pro }
      - { version: 2, action: plan_changed, effective: "2026-10-11", recordedAt: "2026-10-05T09:00:00.000Z", plan: pro, continuedBy: s1-v2 }
  - { id: s1-v2, customer: acct_42, plan: pro, start: "2026-10-11", billingAnchorDay: 1 }
`;
    await applyCatalogPlan(store, await planCatalogApply(store, parseCatalogDocument(doc)));
    expect((await store.getSubscription('acme', 's1'))?.value).toMatchObject({
      trialEnd: '2026-10-08',
      end: '2026-10-11',
    });
    expect((await store.getSubscription('acme', 's1'))?.value.history?.[1]).toMatchObject({
      action: 'plan_changed',
      continuedBy: 's1-v2',
    });
    // Zod checks the shape first, then the dates: one refusal each.
    const early = doc.replace('trialEnd: "2026-10-08"', 'trialEnd: "2026-09-08"');
    expect(await issuesOf(async () => planCatalogApply(await seeded(), parseCatalogDocument(early)))).toEqual(
      [['subscriptions[0].trialEnd', 'TRIAL_END_NOT_AFTER_START']],
    );
    const unknown = doc.replace('action: created', 'action: reborn');
    expect(
      await issuesOf(async () => planCatalogApply(await seeded(), parseCatalogDocument(unknown))),
    ).toEqual([['subscriptions[0].history[0].action', 'INVALID_VALUE']]);
  });
});

describe('catalog as code: progressive billing (docs/billing.md#progressive-billing)', () => {
  const doc = (setting: string) => `
tenant: acme
meters:
  - { key: calls, name: Calls, eventTypes: [call], aggregation: count }
plans:
  - id: metered
    name: Metered
    currency: USD
    progressiveBilling: ${setting}
    charges:
      - { id: calls, name: Calls, kind: per_unit, meter: calls, unitPrice: "0.01" }
`;

  it('applies thresholds and a repeat (YAML or JSON), then changes nothing', async () => {
    const store = await seeded();
    const yaml = doc('{ thresholds: ["100.00", "500.00"], repeatEvery: "1000.00" }');
    await applyCatalogPlan(store, await planCatalogApply(store, parseCatalogDocument(yaml)));
    expect((await store.getPlan('acme', 'metered'))?.value.progressiveBilling).toEqual({
      thresholds: ['100.00', '500.00'],
      repeatEvery: '1000.00',
    });
    const json = JSON.stringify({
      tenant: 'acme',
      meters: [{ key: 'calls', name: 'Calls', eventTypes: ['call'], aggregation: 'count' }],
      plans: [
        {
          id: 'metered',
          name: 'Metered',
          currency: 'USD',
          progressiveBilling: { thresholds: ['100.00', '500.00'], repeatEvery: '1000.00' },
          charges: [{ id: 'calls', name: 'Calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.01' }],
        },
      ],
    });
    const again = await planCatalogApply(store, parseCatalogDocument(json));
    expect(again.changes.every((c) => c.action === 'unchanged')).toBe(true);
  });

  it('refuses a bad setting with a stable code and the failing field, writing nothing', async () => {
    const store = await seeded();
    expect(
      await issuesOf(async () =>
        planCatalogApply(
          store,
          parseCatalogDocument(doc('{ thresholds: ["500.00", "100.00"], repeatEvery: "0" }')),
        ),
      ),
    ).toEqual([
      ['plans[0].progressiveBilling.thresholds[1]', 'THRESHOLDS_NOT_ASCENDING'],
      ['plans[0].progressiveBilling.repeatEvery', 'THRESHOLD_NOT_POSITIVE'],
    ]);
    expect(await issuesOf(async () => planCatalogApply(store, parseCatalogDocument(doc('{}'))))).toEqual([
      ['plans[0].progressiveBilling', 'PROGRESSIVE_BILLING_EMPTY'],
    ]);
    expect(await store.getPlan('acme', 'metered')).toBeUndefined();
  });
});
