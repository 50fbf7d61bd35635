/**
 * Unit grants over HTTP on the real query service (a child process) and NATS (docs/finance.md#unit-grants):
 * POST /v1/customers/:id/credits/entries takes a `unit_grant`, refuses bad ones with 422, stable codes
 * and fields; GET /v1/customers/:id/credits?meter= answers the units left. Their billing:
 * apps/billing-worker's unit-grants.int-spec.ts.
 */
import { waitFor } from '@tally/testing';
import { QueryHarness } from './query-harness';

describe('query service: unit grants API', () => {
  const h = new QueryHarness();
  let keys: Awaited<ReturnType<QueryHarness['tenant']>>;

  beforeAll(async () => {
    await h.start();
    keys = await h.tenant('acme');
    const admin = { key: keys.admin };
    await h.request('PUT', '/v1/customers/acct_42', { ...admin, body: {} });
    const meter = await h.request('PUT', '/v1/meters/api_calls', {
      ...admin,
      body: { name: 'API calls', eventTypes: ['call'], aggregation: 'count' },
    });
    expect(meter.status).toBe(200);
  });
  afterAll(async () => {
    await h.stop();
  });

  const post = (body: Record<string, unknown>, key = keys.admin) =>
    h.request('POST', '/v1/customers/acct_42/credits/entries', { key, body });
  const grant = (over: Record<string, unknown> = {}) => ({
    type: 'unit_grant',
    id: 'free-calls',
    meter: 'api_calls',
    units: '1000',
    effective: '2026-10-01',
    ...over,
  });

  it('appends a grant of 1,000 calls; the unit balance of the meter sees it, the money balance does not', async () => {
    const written = await post(grant());
    expect(written).toMatchObject({ status: 201, body: { entry: grant() } });
    const balance = async (query: string) =>
      (await h.request('GET', `/v1/customers/acct_42/credits?${query}`, { key: keys.query })).body;
    // The balance reads the catalog cache, which follows writes by a watch.
    await waitFor(async () => (await balance('meter=api_calls&asOf=2026-10-02')).balanceUnits === '1000', {
      what: 'the unit grant in the balance',
    });
    expect(await balance('meter=api_calls&asOf=2026-10-02')).toEqual({
      asOf: '2026-10-02',
      meter: 'api_calls',
      balanceUnits: '1000',
      grantedUnits: '1000',
      drawnUnits: '0',
      expiredUnits: '0',
      voidedUnits: '0',
      buckets: [
        {
          grantId: 'free-calls',
          meter: 'api_calls',
          priority: 10,
          effective: '2026-10-01',
          grantedUnits: '1000',
          remainingUnits: '1000',
        },
      ],
    });
    // Before it is effective: nothing; the money balance has no grant.
    expect((await balance('meter=api_calls&asOf=2026-09-30')).balanceUnits).toBe('0');
    expect((await balance('asOf=2026-10-02')).balanceMinor).toBe('0');
    const bad = await h.request('GET', '/v1/customers/acct_42/credits?meter=not%20a%20key', {
      key: keys.query,
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'INVALID_METER']);
  });

  it("shows the meter's unit balance beside the entitlement's limit, and none on another meter", async () => {
    await waitFor(
      async () =>
        (await h.request('GET', '/v1/customers/acct_42/entitlements/api_calls', { key: keys.query })).body
          .unitGrants !== undefined,
      { what: 'the unit grant in the entitlement' },
    );
    const today = new Date().toISOString().slice(0, 10); // the customer is on UTC
    const entitlement = await h.request('GET', '/v1/customers/acct_42/entitlements/api_calls', {
      key: keys.query,
    });
    expect(entitlement.status).toBe(200);
    expect(entitlement.body).toMatchObject({
      meter: 'api_calls',
      usage: '0',
      limit: null,
      allowed: true,
      unitGrants: { meter: 'api_calls', balanceUnits: '1000', asOf: today },
    });
    const other = await h.request('PUT', '/v1/meters/storage', {
      key: keys.admin,
      body: { name: 'Storage', eventTypes: ['store'], aggregation: 'count' },
    });
    expect(other.status).toBe(200);
    await waitFor(
      async () =>
        (await h.request('GET', '/v1/customers/acct_42/entitlements/storage', { key: keys.query })).status ===
        200,
      { what: 'the storage meter in the cache' },
    );
    const storage = await h.request('GET', '/v1/customers/acct_42/entitlements/storage', { key: keys.query });
    expect(storage.body.unitGrants).toBeUndefined();
  });

  it('answers 422 with stable codes and fields; 403 for a query key', async () => {
    const refused = async (body: Record<string, unknown>) => {
      const r = await post(body);
      return [r.status, r.body.error.details.map((d: { field: string; code: string }) => [d.field, d.code])];
    };
    expect(await refused(grant({ id: 'g0', units: '0' }))).toEqual([422, [['units', 'NOT_POSITIVE']]]);
    expect(await refused(grant({ id: 'g1', expires: '2026-09-01' }))).toEqual([
      422,
      [['expires', 'EXPIRES_NOT_AFTER_EFFECTIVE']],
    ]);
    expect(await refused(grant({ id: 'g2', meter: 'tokens' }))).toEqual([422, [['meter', 'UNKNOWN_METER']]]);
    expect(await refused(grant({ id: 'g3', units: 1000 }))).toEqual([422, [['units', expect.any(String)]]]);
    expect(await refused(grant())).toEqual([422, [['id', 'DUPLICATE_ID']]]);
    expect((await post(grant({ id: 'g4' }), keys.query)).status).toBe(403);
  });
});
