/**
 * The usage API end to end on the real servers: every endpoint against hand-computed answers, day
 * windows across both 2026 New York DST changes, tenant isolation through every endpoint, hostile
 * text in filters, group-by values and customer ids, and the limits that answer 4xx.
 */
import type { MeterInput } from '@tally/catalog';
import { qs, type TestEvent, UsageHarness } from './test-support/usage-harness';

const WEIRD_KEY = "we'ird\\key--/*";
const WEIRD_VALUE = "va'l\\ue */ -- ü😀 \n\t";
const WEIRD_CUSTOMER = "o'brien\\ --/* ü😀";

const ev = (
  id: string,
  at: string,
  customer: string,
  quantity: string,
  properties: Record<string, string> = {},
  type = 'call',
  tenant = 'acme',
): TestEvent => ({
  tenant,
  id,
  at,
  customer,
  type,
  quantity,
  properties,
});

const CALLS: TestEvent[] = [
  ev('a1', '2026-03-02T15:00:00.000Z', 'c1', '2', { region: 'east', country: 'USA', duration: '60' }),
  ev('a2', '2026-03-02T16:30:00.000Z', 'c1', '3', { region: 'west', country: 'USA', duration: '30.5' }),
  ev('a3', '2026-03-03T10:00:00.000Z', 'c1', '1.5', { region: 'east', country: 'FR', duration: '120' }),
  ev('a4', '2026-03-03T11:00:00.000Z', 'c2', '4', { region: 'east', country: 'USA', duration: '10' }),
  ev('a5', '2026-03-10T12:00:00.000Z', WEIRD_CUSTOMER, '5', {
    [WEIRD_KEY]: WEIRD_VALUE,
    country: 'USA',
    region: 'east',
  }),
  ev('a6', '2026-03-15T05:00:00.000Z', 'c1', '10', { country: 'DE' }), // Mar 15 01:00 EDT
  ev('a7', '2026-03-16T03:00:00.000Z', 'c1', '7', { country: 'USA' }), // Mar 15 23:00 EDT
  ev('a8', '2026-02-28T23:00:00.000Z', 'c1', '100'), // Feb 28 18:00 EST: not March in New York
  ev('a9', '2026-04-01T03:59:59.000Z', 'c1', '1000'), // Mar 31 23:59:59 EDT: March in New York
  ev('a10', '2026-04-01T04:00:00.000Z', 'c1', '10000'), // Apr 1 00:00 EDT
  ev('a11', '2026-03-01T04:30:00.000Z', 'c1', '50000'), // Feb 28 23:30 EST: March in UTC only
];

// Around both 2026 New York DST changes (EST = UTC-5, EDT = UTC-4).
const TICKS: TestEvent[] = [
  ['t1', '2026-03-08T04:59:59.000Z'], // Mar 7 23:59:59 EST
  ['t2', '2026-03-08T05:00:00.000Z'], // Mar 8 00:00:00 EST
  ['t3', '2026-03-08T06:59:59.999Z'], // Mar 8 01:59:59 EST
  ['t4', '2026-03-08T07:00:00.000Z'], // Mar 8 03:00:00 EDT (02:xx does not exist)
  ['t5', '2026-03-09T03:59:59.000Z'], // Mar 8 23:59:59 EDT: that day had 23 hours
  ['t6', '2026-03-09T04:00:00.000Z'], // Mar 9 00:00:00 EDT
  ['n1', '2026-11-01T03:59:59.000Z'], // Oct 31 23:59:59 EDT
  ['n2', '2026-11-01T04:00:00.000Z'], // Nov 1 00:00:00 EDT
  ['n3', '2026-11-01T05:30:00.000Z'], // Nov 1 01:30 EDT
  ['n4', '2026-11-01T06:30:00.000Z'], // Nov 1 01:30 EST (the same wall time again)
  ['n5', '2026-11-02T04:59:59.000Z'], // Nov 1 23:59:59 EST: that day had 25 hours
  ['n6', '2026-11-02T05:00:00.000Z'], // Nov 2 00:00:00 EST
].map(([id, at]) => ev(id, at, 'c1', '1', {}, 'tick'));

// Another tenant with the same customer id and meter key: never visible to acme's key.
const GLOBEX: TestEvent[] = [
  ev('g1', '2026-03-05T12:00:00.000Z', 'c1', '777', { country: 'USA' }, 'call', 'globex'),
  ev('g2', '2026-03-05T12:00:00.000Z', 'gx', '1', {}, 'call', 'globex'),
];

const meters: MeterInput[] = [
  {
    tenant: 'acme',
    key: 'calls',
    name: 'Calls',
    eventTypes: ['call'],
    aggregation: 'count',
    groupBy: ['region', 'country', WEIRD_KEY],
    profiles: [
      {
        key: 'usa',
        name: 'US calls',
        aggregation: 'count',
        filters: [{ value: 'USA', operator: 'in', property: ['country'] }],
      },
    ],
  },
  {
    tenant: 'acme',
    key: 'units',
    name: 'Units',
    eventTypes: ['call'],
    aggregation: 'sum',
    valueProperty: 'quantity',
  },
  {
    tenant: 'acme',
    key: 'duration',
    name: 'Minutes',
    eventTypes: ['call'],
    aggregation: 'sum',
    valueProperty: 'duration',
  },
  { tenant: 'acme', key: 'ticks', name: 'Ticks', eventTypes: ['tick'], aggregation: 'count' },
];

describe('usage API (real NATS and ClickHouse)', () => {
  const h = new UsageHarness();
  let acme: { query: string; ingest: string };
  let globex: { query: string; ingest: string };

  beforeAll(async () => {
    await h.start();
    acme = await h.tenant({ id: 'acme', timezone: 'America/New_York' });
    globex = await h.tenant({ id: 'globex', timezone: 'UTC' });
    for (const m of meters) await h.store.putMeter(m);
    await h.store.putMeter({
      tenant: 'globex',
      key: 'units',
      name: 'Units',
      eventTypes: ['call'],
      aggregation: 'sum',
      valueProperty: 'quantity',
    });
    await h.store.putMeter({
      tenant: 'globex',
      key: 'secret',
      name: 'Secret',
      eventTypes: ['call'],
      aggregation: 'count',
    });
    // A prepaid grant: entitlement checks show its balance (docs/finance.md#prepaid-credits).
    await h.store.putCustomer({
      tenant: 'acme',
      id: 'c1',
      billing: {
        credits: [{ type: 'grant', id: 'g1', currency: 'USD', amountMinor: '2500', effective: '2026-01-01' }],
      },
    });
    await h.store.putCustomer({ tenant: 'acme', id: 'c2', timezone: 'Europe/Berlin' });
    await h.store.putCustomer({ tenant: 'acme', id: WEIRD_CUSTOMER });
    await h.store.putCustomer({ tenant: 'globex', id: 'c1' });
    await h.store.putPlan({
      tenant: 'acme',
      id: 'growth',
      name: 'Growth',
      currency: 'USD',
      charges: [
        {
          id: 'units',
          name: 'Units',
          kind: 'per_unit',
          meter: 'units',
          unitPrice: '0.01',
          freeUnits: '1000',
        },
        {
          id: 'calls',
          name: 'Calls',
          kind: 'graduated',
          meter: 'calls',
          tiers: [
            { upTo: '5', unitPrice: '0' },
            { upTo: null, unitPrice: '0.1' },
          ],
        },
      ],
    });
    await h.store.putSubscription({
      tenant: 'acme',
      id: 'sub_c1',
      customer: 'c1',
      plan: 'growth',
      start: '2026-01-15',
      billingAnchorDay: 15,
    });
    await h.store.putAlertRule({
      tenant: 'acme',
      id: 'duration-80',
      meter: 'duration',
      threshold: { kind: 'percent_of_allowance', percent: 80, allowance: '500' },
    });
    const billing = h.cache;
    await h.settle(
      () =>
        h.cache.listMeters('acme').length === 4 &&
        h.cache.getCustomer('acme', WEIRD_CUSTOMER) !== undefined &&
        h.cache.getMeter('globex', 'secret') !== undefined &&
        billing.subscriptionsOf('acme', 'c1').length === 1 &&
        billing.getPlan('acme', 'growth') !== undefined &&
        billing.listAlertRules('acme').length === 1,
    );
    await h.insert([...CALLS, ...TICKS, ...GLOBEX]);
  });

  afterAll(() => h.stop());

  const get = (path: string, key = acme.query) => h.get(path, key);

  describe('GET /v1/meters/:key/query', () => {
    it('totals a month in the tenant zone (dates mean local midnight) from the roll-up and from events alike', async () => {
      const rollup = await get(`/v1/meters/units/query${qs({ from: '2026-03-01', to: '2026-04-01' })}`);
      expect(rollup.status).toBe(200);
      expect(rollup.body).toMatchObject({
        meter: 'units',
        series: 'units',
        window: 'none',
        timezone: 'America/New_York',
        from: '2026-03-01T05:00:00.000Z',
        to: '2026-04-01T04:00:00.000Z',
        source: 'rollup',
      });
      // c1: 2 + 3 + 1.5 + 10 + 7 + 1000; c2: 4; the odd customer: 5. Not a8, a10, a11 (outside March in New York).
      expect(rollup.body.rows).toEqual([
        {
          windowStart: '2026-03-01T05:00:00.000Z',
          windowEnd: '2026-04-01T04:00:00.000Z',
          groups: {},
          value: '1032.5',
        },
      ]);
      // A range that does not start on an hour cannot use hourly buckets: same answer from events.
      const scanned = await get(
        `/v1/meters/units/query${qs({ from: '2026-03-01T05:00:01Z', to: '2026-04-01T04:00:00Z' })}`,
      );
      expect(scanned.body.source).toBe('events');
      expect(scanned.body.rows[0].value).toBe('1032.5');
    });

    it('breaks down per customer, per group-by property and per profile, with extra filters', async () => {
      const month = { from: '2026-03-01', to: '2026-04-01' };
      const perCustomer = await get(`/v1/meters/units/query${qs({ ...month, perCustomer: true })}`);
      expect(
        perCustomer.body.rows.map((r: { customer: string; value: string }) => [r.customer, r.value]),
      ).toEqual([
        ['c1', '1023.5'],
        ['c2', '4'],
        [WEIRD_CUSTOMER, '5'],
      ]);
      const byRegion = await get(`/v1/meters/calls/query${qs({ ...month, groupBy: 'region' })}`);
      expect(byRegion.body.source).toBe('events');
      expect(byRegion.body.rows.map((r: { groups: object; value: string }) => [r.groups, r.value])).toEqual([
        [{ region: '' }, '3'],
        [{ region: 'east' }, '4'],
        [{ region: 'west' }, '1'],
      ]);
      const usa = await get(`/v1/meters/calls/query${qs({ ...month, profile: 'usa' })}`);
      expect(usa.body).toMatchObject({ series: 'calls:usa', profile: 'usa', rows: [{ value: '5' }] });
      const filtered = await get(
        `/v1/meters/duration/query${qs({ ...month, filter: JSON.stringify({ property: ['country'], operator: 'in', value: 'USA' }) })}`,
      );
      expect(filtered.body.rows[0].value).toBe('100.5'); // 60 + 30.5 + 10
      const two = await get(`/v1/meters/units/query${qs({ ...month, customer: ['c2', WEIRD_CUSTOMER] })}`);
      expect(two.body.rows.map((r: { customer: string }) => r.customer)).toEqual(['c2', WEIRD_CUSTOMER]);
    });

    it('follows New York across the spring-forward day (23 hours), from the roll-up and from events', async () => {
      const expected = [
        {
          windowStart: '2026-03-07T05:00:00.000Z',
          windowEnd: '2026-03-08T05:00:00.000Z',
          groups: {},
          value: '1',
        },
        {
          windowStart: '2026-03-08T05:00:00.000Z',
          windowEnd: '2026-03-09T04:00:00.000Z',
          groups: {},
          value: '4',
        },
        {
          windowStart: '2026-03-09T04:00:00.000Z',
          windowEnd: '2026-03-10T04:00:00.000Z',
          groups: {},
          value: '1',
        },
      ];
      const q = { from: '2026-03-07', to: '2026-03-10', window: 'day', timezone: 'America/New_York' };
      const rollup = await get(`/v1/meters/ticks/query${qs(q)}`);
      expect(rollup.body.source).toBe('rollup');
      expect(rollup.body.rows).toEqual(expected);
      const scanned = await get(
        `/v1/meters/ticks/query${qs({ ...q, from: '2026-03-07T05:00:00Z', to: '2026-03-10T03:59:59Z' })}`,
      );
      expect(scanned.body.source).toBe('events');
      expect(scanned.body.rows).toEqual(expected);
    });

    it('follows New York across the fall-back day (25 hours), hour by hour too', async () => {
      const q = { from: '2026-10-31', to: '2026-11-03', window: 'day', timezone: 'America/New_York' };
      const days = await get(`/v1/meters/ticks/query${qs(q)}`);
      expect(days.body.rows).toEqual([
        {
          windowStart: '2026-10-31T04:00:00.000Z',
          windowEnd: '2026-11-01T04:00:00.000Z',
          groups: {},
          value: '1',
        },
        {
          windowStart: '2026-11-01T04:00:00.000Z',
          windowEnd: '2026-11-02T05:00:00.000Z',
          groups: {},
          value: '4',
        },
        {
          windowStart: '2026-11-02T05:00:00.000Z',
          windowEnd: '2026-11-03T05:00:00.000Z',
          groups: {},
          value: '1',
        },
      ]);
      // 01:30 EDT and 01:30 EST are different hours.
      const hours = await get(
        `/v1/meters/ticks/query${qs({ ...q, from: '2026-11-01T05:00:00Z', to: '2026-11-01T07:00:00Z', window: 'hour' })}`,
      );
      expect(
        hours.body.rows.map((r: { windowStart: string; value: string }) => [r.windowStart, r.value]),
      ).toEqual([
        ['2026-11-01T05:00:00.000Z', '1'],
        ['2026-11-01T06:00:00.000Z', '1'],
      ]);
      const months = await get(
        `/v1/meters/ticks/query${qs({ from: '2026-01-01', to: '2027-01-01', window: 'month' })}`,
      );
      expect(months.body.rows).toEqual([
        {
          windowStart: '2026-03-01T05:00:00.000Z',
          windowEnd: '2026-04-01T04:00:00.000Z',
          groups: {},
          value: '6',
        },
        {
          windowStart: '2026-10-01T04:00:00.000Z',
          windowEnd: '2026-11-01T04:00:00.000Z',
          groups: {},
          value: '1',
        },
        {
          windowStart: '2026-11-01T04:00:00.000Z',
          windowEnd: '2026-12-01T05:00:00.000Z',
          groups: {},
          value: '5',
        },
      ]);
    });
  });

  it('GET /v1/customers/:id/usage: per meter and profile, total and every local day of the period', async () => {
    const r = await get(`/v1/customers/c1/usage${qs({ period: '2026-03' })}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      customer: 'c1',
      timezone: 'America/New_York',
      from: '2026-03-01T05:00:00.000Z',
      to: '2026-04-01T04:00:00.000Z',
      source: 'mixed',
    });
    const bySeries = Object.fromEntries(r.body.usage.map((u: { series: string }) => [u.series, u]));
    expect(Object.keys(bySeries)).toEqual(['calls', 'calls:usa', 'duration', 'ticks', 'units']);
    expect(bySeries.units.total).toBe('1023.5');
    expect(bySeries.calls.total).toBe('6');
    expect(bySeries['calls:usa']).toMatchObject({
      total: '3',
      name: 'US calls',
      profile: 'usa',
      meter: 'calls',
    });
    expect(bySeries.duration.total).toBe('210.5');
    expect(bySeries.ticks.total).toBe('6');
    const units = bySeries.units.days as Array<{ date: string; start: string; end: string; value: string }>;
    expect(units).toHaveLength(31);
    expect(units.filter((d) => d.value !== '0').map((d) => [d.date, d.value])).toEqual([
      ['2026-03-02', '5'],
      ['2026-03-03', '1.5'],
      ['2026-03-15', '17'],
      ['2026-03-31', '1000'],
    ]);
    expect(units[7]).toEqual({
      date: '2026-03-08',
      start: '2026-03-08T05:00:00.000Z',
      end: '2026-03-09T04:00:00.000Z',
      value: '0',
    });
    expect(bySeries.ticks.days[7]).toMatchObject({ date: '2026-03-08', value: '4' });
    // The customer's own zone: Berlin's March.
    const berlin = await get(`/v1/customers/c2/usage${qs({ period: '2026-03', meter: 'units' })}`);
    expect(berlin.body).toMatchObject({
      timezone: 'Europe/Berlin',
      from: '2026-02-28T23:00:00.000Z',
      source: 'rollup',
    });
    expect(berlin.body.usage.map((u: { series: string; total: string }) => [u.series, u.total])).toEqual([
      ['units', '4'],
    ]);
  });

  it('GET /v1/meters/:key/top-customers: highest usage first', async () => {
    const r = await get(
      `/v1/meters/units/top-customers${qs({ from: '2026-03-01', to: '2026-04-01', limit: 2 })}`,
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ source: 'rollup', series: 'units' });
    expect(r.body.customers).toEqual([
      { customer: 'c1', value: '1023.5' },
      { customer: WEIRD_CUSTOMER, value: '5' },
    ]);
    const durations = await get(
      `/v1/meters/duration/top-customers${qs({ from: '2026-03-01', to: '2026-04-01' })}`,
    );
    expect(durations.body.customers).toEqual([
      { customer: 'c1', value: '210.5' },
      { customer: 'c2', value: '10' },
    ]);
  });

  it('GET /v1/customers/:id/current-usage: the subscription period, else the calendar month in the customer zone', async () => {
    // The clock is 2026-03-20T12:00Z. c1 is billed from the 15th (New York): Mar 15 .. Apr 15.
    const c1 = await get('/v1/customers/c1/current-usage');
    expect(c1.status).toBe(200);
    expect(c1.body.period).toEqual({
      from: '2026-03-15T04:00:00.000Z',
      to: '2026-04-15T04:00:00.000Z',
      timezone: 'America/New_York',
      source: 'subscription',
      subscription: 'sub_c1',
      plan: 'growth',
    });
    const totals = (body: { usage: Array<{ series: string; total: string }> }) =>
      Object.fromEntries(body.usage.map((u) => [u.series, u.total]));
    // a6, a7, a9 and a10 (Apr 1 00:00 EDT is still in this period).
    expect(totals(c1.body)).toEqual({
      calls: '4',
      'calls:usa': '1',
      duration: '0',
      ticks: '0',
      units: '11017',
    });
    const c2 = await get('/v1/customers/c2/current-usage');
    expect(c2.body.period).toMatchObject({
      from: '2026-02-28T23:00:00.000Z',
      to: '2026-03-31T22:00:00.000Z',
      source: 'calendar_month',
    });
    expect(totals(c2.body)).toEqual({ calls: '1', 'calls:usa': '1', duration: '10', ticks: '0', units: '4' });
  });

  it('GET /v1/customers/:id/entitlements/:meter: free units, a free tier, or an alert allowance', async () => {
    const units = await get('/v1/customers/c1/entitlements/units');
    expect(units.body).toMatchObject({
      usage: '11017',
      limit: '1000',
      allowed: false,
      limitSource: { kind: 'plan_free_units', plan: 'growth', charge: 'units', subscription: 'sub_c1' },
      credit: { currency: 'USD', balanceMinor: '2500', asOf: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) },
    });
    const calls = await get('/v1/customers/c1/entitlements/calls');
    expect(calls.body).toMatchObject({
      usage: '4',
      limit: '5',
      allowed: true,
      limitSource: { kind: 'plan_free_tier' },
    });
    const duration = await get('/v1/customers/c2/entitlements/duration');
    expect(duration.body).toMatchObject({
      usage: '10',
      limit: '500',
      allowed: true,
      limitSource: { kind: 'alert_rule', rule: 'duration-80' },
    });
    expect(duration.body.credit).toBeUndefined();
    const unlimited = await get('/v1/customers/c2/entitlements/calls:usa');
    expect(unlimited.body).toMatchObject({
      series: 'calls:usa',
      usage: '1',
      limit: null,
      allowed: true,
      limitSource: null,
    });
    expect((await get('/v1/customers/c1/entitlements/nope')).status).toBe(404);
    expect((await get('/v1/customers/c1/entitlements/calls:nope')).status).toBe(404);
  });

  it("isolates tenants: acme's key never sees globex's rows, meters or customers", async () => {
    const month = { from: '2026-03-01', to: '2026-04-01' };
    const units = await get(`/v1/meters/units/query${qs({ ...month, customer: 'c1' })}`);
    expect(units.body.rows[0].value).toBe('1023.5'); // not + 777
    expect((await get(`/v1/meters/units/query${qs({ ...month, customer: 'gx' })}`)).body.rows).toEqual([]);
    const secret = await get(`/v1/meters/secret/query${qs(month)}`);
    expect(secret.status).toBe(404);
    expect(secret.body.error.code).toBe('NOT_FOUND');
    expect((await get(`/v1/meters/secret/top-customers${qs(month)}`)).status).toBe(404);
    const top = await get(`/v1/meters/units/top-customers${qs({ ...month, limit: 100 })}`);
    expect(top.body.customers.map((c: { customer: string }) => c.customer)).not.toContain('gx');
    const gxUsage = await get(`/v1/customers/gx/usage${qs({ period: '2026-03' })}`);
    expect(gxUsage.body.usage.every((u: { total: string }) => u.total === '0')).toBe(true);
    const gxNow = await get('/v1/customers/gx/current-usage');
    expect(gxNow.body.usage.every((u: { total: string }) => u.total === '0')).toBe(true);
    expect((await get('/v1/customers/gx/entitlements/units')).body).toMatchObject({
      usage: '0',
      limit: null,
    });
    expect((await get('/v1/customers/gx/entitlements/secret')).status).toBe(404);
    // globex's own key sees its own rows, and only those.
    const own = await get(
      `/v1/meters/units/query${qs({ from: '2026-03-01', to: '2026-04-01', perCustomer: true })}`,
      globex.query,
    );
    expect(own.body.rows.map((r: { customer: string; value: string }) => [r.customer, r.value])).toEqual([
      ['c1', '777'],
      ['gx', '1'],
    ]);
  });

  it('treats quotes, backslashes, comments, unicode and NUL as plain values everywhere', async () => {
    const month = { from: '2026-03-01', to: '2026-04-01' };
    const byWeird = await get(`/v1/meters/calls/query${qs({ ...month, groupBy: WEIRD_KEY })}`);
    expect(byWeird.status).toBe(200);
    expect(
      byWeird.body.rows.map((r: { groups: Record<string, string>; value: string }) => [
        r.groups[WEIRD_KEY],
        r.value,
      ]),
    ).toEqual([
      ['', '7'],
      [WEIRD_VALUE, '1'],
    ]);
    const match = await get(
      `/v1/meters/calls/query${qs({ ...month, filter: JSON.stringify({ property: WEIRD_KEY, operator: 'eq', value: WEIRD_VALUE }) })}`,
    );
    expect(match.body.rows[0].value).toBe('1');
    for (const hostile of [
      "x' OR 1=1 --",
      "x\\' OR 1=1 /*",
      "'; DROP TABLE events; --",
      'USA\u0000',
      '\\',
      "''",
      '*/',
    ]) {
      const eq = await get(
        `/v1/meters/calls/query${qs({ ...month, filter: JSON.stringify({ property: 'country', operator: 'eq', value: hostile }) })}`,
      );
      expect([eq.status, eq.body.rows[0].value]).toEqual([200, '0']);
      const ne = await get(
        `/v1/meters/calls/query${qs({ ...month, filter: JSON.stringify({ property: hostile, operator: 'ne', value: hostile }) })}`,
      );
      expect([ne.status, ne.body.rows[0].value]).toEqual([200, '8']); // the property exists nowhere: every call matches
      const customer = await get(`/v1/meters/units/query${qs({ ...month, customer: hostile })}`);
      expect([customer.status, customer.body.rows]).toEqual([200, []]);
      const path = await get(
        `/v1/customers/${encodeURIComponent(hostile)}/usage${qs({ period: '2026-03', meter: 'units' })}`,
      );
      expect([path.status, path.body.usage[0].total]).toEqual([200, '0']);
      const entitlement = await get(`/v1/customers/${encodeURIComponent(hostile)}/entitlements/units`);
      expect([entitlement.status, entitlement.body.usage]).toEqual([200, '0']);
    }
    const weird = await get(
      `/v1/customers/${encodeURIComponent(WEIRD_CUSTOMER)}/usage${qs({ period: '2026-03', meter: 'units' })}`,
    );
    expect(weird.body.usage[0].total).toBe('5');
    const weirdNow = await get(`/v1/customers/${encodeURIComponent(WEIRD_CUSTOMER)}/current-usage`);
    expect(weirdNow.body.usage.find((u: { series: string }) => u.series === 'units').total).toBe('5');
    // The tables are still there and whole.
    expect((await get(`/v1/meters/units/query${qs(month)}`)).body.rows[0].value).toBe('1032.5');
  });

  describe('refuses, with a stable code and the failing field', () => {
    const month = { from: '2026-03-01', to: '2026-04-01' };
    const codes = (body: { error: { code: string; details?: Array<{ field: string; code: string }> } }) => [
      body.error.code,
      ...(body.error.details ?? []).map((d) => `${d.field}:${d.code}`),
    ];

    it('too many windows or too long a range: RANGE_TOO_LARGE', async () => {
      const minutes = await get(`/v1/meters/units/query${qs({ ...month, window: 'minute' })}`);
      expect([minutes.status, ...codes(minutes.body)]).toEqual([
        422,
        'RANGE_TOO_LARGE',
        'to:RANGE_TOO_LARGE',
      ]);
      const years = await get(`/v1/meters/units/query${qs({ from: '2020-01-01', to: '2026-01-01' })}`);
      expect([years.status, years.body.error.code]).toEqual([422, 'RANGE_TOO_LARGE']);
      const usage = await get(`/v1/customers/c1/usage${qs({ from: '2020-01-01', to: '2026-01-01' })}`);
      expect([usage.status, usage.body.error.code]).toEqual([422, 'RANGE_TOO_LARGE']);
    });

    it('more rows than the limit: RESULT_TOO_LARGE', async () => {
      const r = await get(`/v1/meters/units/query${qs({ ...month, perCustomer: true, limit: 2 })}`);
      expect([r.status, ...codes(r.body)]).toEqual([422, 'RESULT_TOO_LARGE', 'limit:RESULT_TOO_LARGE']);
      const scan = await get(`/v1/meters/duration/query${qs({ ...month, window: 'day', limit: 1 })}`);
      expect([scan.status, scan.body.error.code]).toEqual([422, 'RESULT_TOO_LARGE']);
    });

    it('bad parameters: every one named at once', async () => {
      const r = await get(
        `/v1/meters/calls/query${qs({
          from: 'yesterday',
          to: '2026-03-01T00:00:00.500Z',
          window: 'week',
          timezone: 'america/new_york',
          limit: 0,
          filter: ['{nope', JSON.stringify({ property: 'country', operator: 'like', value: 'x' })],
          colour: 'red',
        })}`,
      );
      expect(r.status).toBe(422);
      expect(codes(r.body)).toEqual([
        'VALIDATION_FAILED',
        'colour:UNKNOWN_PARAMETER',
        'timezone:INVALID_TIMEZONE',
        'from:INVALID_TIME',
        'to:TIME_NOT_WHOLE_SECOND',
        'window:INVALID_VALUE',
        'filter[0]:MALFORMED_JSON',
        'filter[1].operator:INVALID_VALUE',
        'limit:OUT_OF_RANGE',
      ]);
      const groupBy = await get(`/v1/meters/calls/query${qs({ ...month, groupBy: ['region', 'nope'] })}`);
      expect(codes(groupBy.body)).toEqual(['VALIDATION_FAILED', 'groupBy[1]:GROUP_BY_NOT_IN_METER']);
      const empty = await get(`/v1/meters/calls/query${qs({ from: '2026-03-02', to: '2026-03-01' })}`);
      expect(codes(empty.body)).toEqual(['VALIDATION_FAILED', 'to:EMPTY_RANGE']);
      const profile = await get(`/v1/meters/calls/query${qs({ ...month, profile: 'nope' })}`);
      expect(codes(profile.body)).toEqual(['VALIDATION_FAILED', 'profile:UNKNOWN_PROFILE']);
      const period = await get(`/v1/customers/c1/usage${qs({ period: '2026-13' })}`);
      expect(codes(period.body)).toEqual(['VALIDATION_FAILED', 'period:INVALID_PERIOD']);
      const missing = await get('/v1/customers/c1/usage');
      expect(codes(missing.body)).toEqual(['VALIDATION_FAILED', 'from:REQUIRED', 'to:REQUIRED']);
      const unknownMeter = await get(
        `/v1/customers/c1/usage${qs({ period: '2026-03', meter: ['units', 'nope'] })}`,
      );
      expect(codes(unknownMeter.body)).toEqual(['VALIDATION_FAILED', 'meter[1]:UNKNOWN_METER']);
    });

    it('no key 401, an ingest key 403', async () => {
      const none = await h.get(`/v1/meters/units/query${qs(month)}`, undefined);
      expect([none.status, none.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
      const ingest = await get(`/v1/customers/c1/current-usage`, acme.ingest);
      expect([ingest.status, ingest.body.error.code]).toEqual([403, 'FORBIDDEN']);
    });
  });
});
