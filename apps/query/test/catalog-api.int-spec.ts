/**
 * The catalog REST API of the real query service (a child process) on the real NATS and ClickHouse:
 * CRUD, roles, revisions, validation, tenant isolation and the OpenAPI docs.
 */
import { QueryHarness, seg, type HttpResult } from './query-harness';

const etag = (r: HttpResult): string => r.headers.get('etag') ?? 'missing ETag';

const METER = {
  name: 'Songs played',
  eventTypes: ['Song played'],
  aggregation: 'count',
  groupBy: ['artist'],
};
const PLAN = {
  name: 'Growth',
  currency: 'USD',
  charges: [
    { id: 'base', name: 'Platform fee', kind: 'flat', amount: '49' },
    { id: 'plays', name: 'Plays', kind: 'per_unit', meter: 'plays', unitPrice: '0.001', freeUnits: '10000' },
  ],
};
/** Slashes, spaces, dots, percent signs, a question mark and non-ASCII: customer ids can hold anything. */
const ODD_ID = 'acct/42 ä.ß?%20#ünïcødé';

describe('query service: catalog API', () => {
  const h = new QueryHarness();
  let acme: Awaited<ReturnType<QueryHarness['tenant']>>;
  let globex: Awaited<ReturnType<QueryHarness['tenant']>>;

  beforeAll(async () => {
    await h.start();
    [acme, globex] = await Promise.all([h.tenant('acme'), h.tenant('globex')]);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers /health and serves the OpenAPI document with bearer auth at /docs', async () => {
    // The public port: liveness only; the dependencies are named on the internal port.
    expect(await h.request('GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await h.request('GET', '/health')).body).toEqual({ status: 'ok' });
    expect(await (await fetch(`${h.internalUrl}/health`)).json()).toMatchObject({
      status: 'ok',
      checks: { nats: 'ok', clickhouse: 'ok' },
    });
    const ui = await h.request('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
    expect(ui.body).toContain('swagger-ui');
    const asset = await h.request('GET', '/docs/swagger-ui-bundle.js');
    expect(asset.status).toBe(200);
    expect((await h.request('GET', '/docs-yaml')).body).toContain('openapi: 3.0.0');
    const doc = await h.request('GET', '/docs-json');
    expect(doc.status).toBe(200);
    expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const path of [
      '/v1/tenant',
      '/v1/customers',
      '/v1/customers/{id}',
      '/v1/meters/{key}',
      '/v1/meters/{key}/versions/{version}',
      '/v1/plans/{id}',
      '/v1/subscriptions/{id}',
      '/v1/alert-rules/{id}',
      '/v1/api-keys',
      '/v1/api-keys/{id}',
    ]) {
      expect(doc.body.paths[path]).toBeDefined();
    }
    expect(doc.body.paths['/v1/customers/{id}'].put.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.body.paths['/v1/customers/{id}'].put.responses)).toEqual(
      expect.arrayContaining(['200', '401', '403', '409', '422']),
    );
  });

  it('refuses requests without a valid key (401) and keys whose role may not do it (403)', async () => {
    for (const key of [undefined, 'tally_admin_notarealkey', `${acme.admin}x`]) {
      const r = await h.request('GET', '/v1/customers', { key });
      expect(r).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    }
    expect((await h.request('GET', '/v1/customers', { key: acme.ingest })).status).toBe(403);
    expect((await h.request('GET', '/v1/customers', { key: acme.query })).status).toBe(200);
    for (const [method, path, body] of [
      ['PUT', '/v1/customers/c1', {}],
      ['DELETE', '/v1/customers/c1', undefined],
      ['PUT', '/v1/tenant', { name: 'x', timezone: 'UTC', currency: 'USD' }],
      ['PUT', '/v1/meters/plays', METER],
      ['POST', '/v1/api-keys', { role: 'admin' }],
      ['GET', '/v1/api-keys', undefined],
    ] as const) {
      const r = await h.request(method, path, { key: acme.query, body });
      expect([method, path, r.status, r.body.error.code]).toEqual([method, path, 403, 'FORBIDDEN']);
    }
  });

  it("reads and changes the key's own tenant, with revisions", async () => {
    const read = await h.request('GET', '/v1/tenant', { key: acme.query });
    expect(read).toMatchObject({ status: 200, body: { id: 'acme', timezone: 'UTC', currency: 'USD' } });
    expect(read.headers.get('etag')).toBe(`"${read.body.revision}"`);
    const changed = await h.request('PUT', '/v1/tenant', {
      key: acme.admin,
      body: { ...read.body, name: 'Acme Inc.', timezone: 'America/New_York' },
      headers: { 'if-match': etag(read) },
    });
    expect(changed).toMatchObject({
      status: 200,
      body: { id: 'acme', name: 'Acme Inc.', timezone: 'America/New_York' },
    });
    expect(changed.body.revision).toBeGreaterThan(read.body.revision);
    const stale = await h.request('PUT', '/v1/tenant', {
      key: acme.admin,
      body: { name: 'Lost update', timezone: 'UTC', currency: 'USD' },
      headers: { 'if-match': etag(read) },
    });
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'REVISION_CONFLICT' } } });
    const otherTenant = await h.request('PUT', '/v1/tenant', {
      key: acme.admin,
      body: { id: 'globex', name: 'x', timezone: 'UTC', currency: 'USD' },
    });
    expect(otherTenant).toMatchObject({
      status: 422,
      body: { error: { details: [{ field: 'id', code: 'ID_MISMATCH' }] } },
    });
  });

  it('creates, reads, lists, updates and deletes a customer whose id holds any character', async () => {
    const path = `/v1/customers/${seg(ODD_ID)}`;
    const created = await h.request('PUT', path, {
      key: acme.admin,
      body: { name: 'Globex', metadata: { crm: '42' } },
      headers: { 'if-none-match': '*' },
    });
    expect(created).toMatchObject({ status: 200, body: { tenant: 'acme', id: ODD_ID, name: 'Globex' } });
    expect(created.headers.get('etag')).toBe(`"${created.body.revision}"`);
    expect(
      (await h.request('PUT', path, { key: acme.admin, body: {}, headers: { 'if-none-match': '*' } })).status,
    ).toBe(409);

    const read = await h.request('GET', path, { key: acme.query });
    expect(read).toMatchObject({ status: 200, body: created.body });
    expect(read.headers.get('etag')).toBe(created.headers.get('etag'));

    const long = 'x'.repeat(200) + 'ü/'.repeat(28);
    expect(long).toHaveLength(256);
    expect((await h.request('PUT', `/v1/customers/${seg(long)}`, { key: acme.admin, body: {} })).status).toBe(
      200,
    );
    expect((await h.request('GET', `/v1/customers/${seg(long)}`, { key: acme.query })).body.id).toBe(long);

    const list = await h.request('GET', '/v1/customers?limit=1', { key: acme.query });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const rest = await h.request('GET', `/v1/customers?limit=10&after=${seg(list.body.next)}`, {
      key: acme.query,
    });
    expect([...list.body.items, ...rest.body.items].map((c: { id: string }) => c.id).sort()).toEqual(
      [ODD_ID, long].sort(),
    );
    expect(rest.body.next).toBeUndefined();

    const updated = await h.request('PUT', path, {
      key: acme.admin,
      body: { ...read.body, name: 'Globex Corp' },
      headers: { 'if-match': etag(read) },
    });
    expect(updated).toMatchObject({
      status: 200,
      body: { name: 'Globex Corp', createdAt: created.body.createdAt },
    });
    // A stale revision, by header or in the body, loses instead of overwriting.
    expect(
      await h.request('PUT', path, {
        key: acme.admin,
        body: { name: 'x' },
        headers: { 'if-match': etag(read) },
      }),
    ).toMatchObject({ status: 409, body: { error: { code: 'REVISION_CONFLICT' } } });
    expect(
      await h.request('PUT', path, {
        key: acme.admin,
        body: { name: 'x', expectedRevision: read.body.revision },
      }),
    ).toMatchObject({ status: 409, body: { error: { code: 'REVISION_CONFLICT' } } });
    expect(
      (await h.request('DELETE', path, { key: acme.admin, headers: { 'if-match': etag(read) } })).status,
    ).toBe(409);

    expect(
      (await h.request('DELETE', path, { key: acme.admin, headers: { 'if-match': etag(updated) } })).status,
    ).toBe(204);
    expect(await h.request('GET', path, { key: acme.query })).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    expect((await h.request('DELETE', path, { key: acme.admin })).status).toBe(404);

    // Edge ids: empty, blank, too long, NUL: a 4xx with a stable code, never a 500.
    for (const [method, p] of [
      ['GET', '/v1/customers/'],
      ['PUT', '/v1/customers/'],
      ['DELETE', '/v1/customers/'],
      ['GET', `/v1/customers/${seg('x'.repeat(257))}`],
      ['GET', '/v1/customers/%00'],
      ['GET', '/v1/meters/a.b'],
      ['GET', '/v1/plans/..'],
    ] as const) {
      const r = await h.request(method, p, { key: acme.admin, body: method === 'PUT' ? {} : undefined });
      expect([method, p, r.status < 500, typeof r.body?.error?.code]).toEqual([method, p, true, 'string']);
    }
    const tooLong = await h.request('PUT', `/v1/customers/${seg('x'.repeat(257))}`, {
      key: acme.admin,
      body: {},
    });
    expect(tooLong.body.error.details).toEqual([expect.objectContaining({ field: 'id', code: 'TOO_LONG' })]);
    const blank = await h.request('PUT', `/v1/customers/${seg(' ')}`, { key: acme.admin, body: {} });
    expect(blank).toMatchObject({ status: 200, body: { id: ' ' } });
  });

  it('answers 422 naming every invalid field, 400 to bad JSON or preconditions, 415 to other types', async () => {
    const customer = await h.request('PUT', '/v1/customers/c-bad', {
      key: acme.admin,
      body: { name: '', timezone: 'america/new_york', colour: 'red', tenant: 'globex' },
    });
    expect(customer.status).toBe(422);
    expect(customer.body.error.code).toBe('VALIDATION_FAILED');
    expect(
      customer.body.error.details.map((d: { field: string; code: string }) => [d.field, d.code]),
    ).toEqual([
      ['tenant', 'TENANT_MISMATCH'],
      ['name', 'TOO_SHORT'],
      ['timezone', 'INVALID_TIMEZONE'],
      ['colour', 'UNKNOWN_FIELD'],
    ]);

    expect((await h.request('PUT', '/v1/meters/plays', { key: acme.admin, body: METER })).status).toBe(200);
    const plan = await h.request('PUT', '/v1/plans/growth', {
      key: acme.admin,
      body: {
        ...PLAN,
        charges: [
          { id: 'base', name: 'Platform fee', kind: 'flat', amount: 49 },
          { id: 'x', name: 'X', kind: 'per_unit', meter: 'nope', unitPrice: '0.001' },
        ],
      },
    });
    expect(plan.status).toBe(422);
    expect(plan.body.error.details).toEqual([
      expect.objectContaining({ field: 'charges[0].amount', code: 'INVALID_DECIMAL' }),
    ]);
    const unknownMeter = await h.request('PUT', '/v1/plans/growth', {
      key: acme.admin,
      body: {
        ...PLAN,
        charges: [{ id: 'x', name: 'X', kind: 'per_unit', meter: 'nope', unitPrice: '0.001' }],
      },
    });
    expect(unknownMeter.body.error.details).toEqual([
      expect.objectContaining({ field: 'charges[0].meter', code: 'UNKNOWN_METER' }),
    ]);
    const meter = await h.request('PUT', '/v1/meters/bad', {
      key: acme.admin,
      body: {
        name: 'Bad',
        eventTypes: [],
        aggregation: 'sum',
        filters: [{ property: 'x', operator: 'between' }],
      },
    });
    expect(meter.status).toBe(422);
    expect(meter.body.error.details.map((d: { field: string }) => d.field)).toEqual(
      expect.arrayContaining(['eventTypes', 'filters[0].operator']),
    );
    const badKey = await h.request('PUT', '/v1/meters/Not-A-Key', { key: acme.admin, body: METER });
    expect(badKey.body.error.details).toEqual([expect.objectContaining({ field: 'key' })]);
    const subscription = await h.request('PUT', '/v1/subscriptions/s1', {
      key: acme.admin,
      body: { customer: 'ghost', plan: 'ghost', start: '2026-02-30' },
    });
    expect(subscription.body.error.details).toEqual([
      expect.objectContaining({ field: 'start', code: 'INVALID_DATE' }),
    ]);
    expect(
      (await h.request('GET', '/v1/customers?limit=0&custmer=x', { key: acme.query })).body.error.details,
    ).toEqual([
      expect.objectContaining({ field: 'limit' }),
      expect.objectContaining({ field: 'custmer', code: 'UNKNOWN_FIELD' }),
    ]);
    expect(
      (await h.request('GET', '/v1/meters/plays/versions/first', { key: acme.query })).body.error.details[0]
        .field,
    ).toBe('version');
    expect(await h.request('PUT', '/v1/customers/c1', { key: acme.admin, body: [] })).toMatchObject({
      status: 422,
      body: { error: { details: [{ field: '', code: 'INVALID_TYPE' }] } },
    });

    expect(await h.request('PUT', '/v1/customers/c1', { key: acme.admin, body: '{"name":' })).toMatchObject({
      status: 400,
      body: { error: { code: 'MALFORMED_JSON' } },
    });
    expect(
      await h.request('PUT', '/v1/customers/c1', {
        key: acme.admin,
        body: {},
        headers: { 'if-match': 'yesterday' },
      }),
    ).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_PRECONDITION', details: [{ field: 'If-Match' }] } },
    });
    expect(
      await h.request('PUT', '/v1/customers/c1', {
        key: acme.admin,
        body: 'name=x',
        headers: { 'content-type': 'text/plain' },
      }),
    ).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
  });

  it('versions meters and serves every past version', async () => {
    const first = await h.request('PUT', '/v1/meters/minutes', {
      key: acme.admin,
      body: { name: 'Minutes', eventTypes: ['call'], aggregation: 'sum', valueProperty: 'duration' },
    });
    expect(first).toMatchObject({ status: 200, body: { key: 'minutes', version: 1 } });
    const same = await h.request('PUT', '/v1/meters/minutes', { key: acme.admin, body: first.body });
    expect(same.body).toEqual(first.body);
    const second = await h.request('PUT', '/v1/meters/minutes', {
      key: acme.admin,
      body: { ...first.body, aggregation: 'max' },
      headers: { 'if-match': etag(first) },
    });
    expect(second).toMatchObject({ status: 200, body: { version: 2, aggregation: 'max' } });
    expect((await h.request('GET', '/v1/meters/minutes/versions', { key: acme.query })).body).toEqual({
      key: 'minutes',
      current: 2,
      versions: [1, 2],
    });
    expect((await h.request('GET', '/v1/meters/minutes/versions/1', { key: acme.query })).body).toMatchObject(
      {
        version: 1,
        aggregation: 'sum',
      },
    );
    expect((await h.request('DELETE', '/v1/meters/minutes', { key: acme.admin })).status).toBe(204);
    expect((await h.request('GET', '/v1/meters/minutes', { key: acme.query })).status).toBe(404);
    expect(
      (await h.request('GET', '/v1/meters/minutes/versions/2', { key: acme.query })).body.aggregation,
    ).toBe('max');
  });

  it('manages plans, subscriptions (filtered by customer) and alert rules', async () => {
    await h.request('PUT', '/v1/meters/plays', { key: acme.admin, body: METER });
    await h.request('PUT', '/v1/customers/c1', { key: acme.admin, body: {} });
    await h.request('PUT', '/v1/customers/c2', { key: acme.admin, body: {} });
    expect((await h.request('PUT', '/v1/plans/growth', { key: acme.admin, body: PLAN })).status).toBe(200);
    for (const [id, customer] of [
      ['s1', 'c1'],
      ['s2', 'c2'],
    ]) {
      const r = await h.request('PUT', `/v1/subscriptions/${id}`, {
        key: acme.admin,
        body: { customer, plan: 'growth', start: '2026-02-01' },
      });
      expect(r.status).toBe(200);
    }
    const c1 = await h.request('GET', '/v1/subscriptions?customer=c1', { key: acme.query });
    expect(c1.body.items.map((s: { id: string }) => s.id)).toEqual(['s1']);
    const rule = await h.request('PUT', '/v1/alert-rules/plays-80pct', {
      key: acme.admin,
      body: {
        meter: 'plays',
        customer: 'c1',
        threshold: { kind: 'percent_of_allowance', percent: 80, allowance: '10000' },
      },
    });
    expect(rule).toMatchObject({ status: 200, body: { id: 'plays-80pct', tenant: 'acme' } });
    expect((await h.request('GET', '/v1/alert-rules', { key: acme.query })).body.items).toHaveLength(1);
    expect((await h.request('GET', '/v1/plans/growth', { key: acme.query })).body.charges).toEqual(
      PLAN.charges,
    );
    expect((await h.request('DELETE', '/v1/alert-rules/plays-80pct', { key: acme.admin })).status).toBe(204);
  });

  it('refuses alert-rule webhooks to internal addresses at save, and never returns or logs the secret', async () => {
    expect((await h.request('PUT', '/v1/meters/hooks', { key: acme.admin, body: { ...METER, key: 'hooks' } })).status).toBe(200);
    const put = (id: string, body: Record<string, unknown>) =>
      h.request('PUT', `/v1/alert-rules/${id}`, {
        key: acme.admin,
        body: { meter: 'hooks', threshold: { kind: 'absolute', value: '5' }, ...body },
      });
    for (const [url, why] of [
      ['http://127.0.0.1/hook', 'loopback'],
      ['http://169.254.169.254/latest/meta-data/', 'link-local'],
      ['http://10.0.0.1/hook', 'private'],
      ['http://localhost:8123/', 'loopback'],
    ]) {
      const refused = await put('internal', { webhookUrl: url });
      expect([url, refused.status, refused.body.error.details]).toEqual([
        url,
        422,
        [{ field: 'webhookUrl', code: 'WEBHOOK_DESTINATION_REFUSED', message: expect.stringContaining(`a ${why} address`) }],
      ]);
    }
    expect((await h.request('GET', '/v1/alert-rules/internal', { key: acme.admin })).status).toBe(404);

    const secret = 'whsec_c2VjcmV0LW5ldmVyLXNob3duLXRvLWFueW9uZQ==';
    const saved = await put('public', { webhookUrl: 'https://93.184.216.34/hook', webhookSecret: secret });
    expect(saved.status).toBe(200);
    // Rewritten without the secret (a client never has it to send back): the stored one stays.
    const rewritten = await put('public', { webhookUrl: 'https://93.184.216.34/other' });
    expect(rewritten.body).toMatchObject({ webhookUrl: 'https://93.184.216.34/other', webhookSecretSet: true });
    expect((await h.store.getAlertRule('acme', 'public'))?.value.webhookSecret).toBe(secret);
    const answers = [
      saved,
      rewritten,
      await h.request('GET', '/v1/alert-rules/public', { key: acme.query }),
      await h.request('GET', '/v1/alert-rules', { key: acme.query }),
      await h.request('GET', '/v1/alert-rules/public', { key: acme.admin }),
    ];
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(JSON.stringify(a.body)).not.toContain(secret);
    }
    expect(answers[2].body).toMatchObject({ id: 'public', webhookSecretSet: true });
    expect(answers[2].body.webhookSecret).toBeUndefined();
    // Rotation is a write of a new secret.
    const rotated = 'whsec_cm90YXRlZC1zZWNyZXQtdmFsdWUtMTIzNDU2';
    expect((await put('public', { webhookUrl: 'https://93.184.216.34/other', webhookSecret: rotated })).status).toBe(200);
    expect((await h.store.getAlertRule('acme', 'public'))?.value.webhookSecret).toBe(rotated);
    expect(h.service.output()).not.toContain(secret.slice('whsec_'.length));
    expect(h.service.output()).not.toContain(rotated.slice('whsec_'.length));
  });

  it('creates API keys that work at once, lists them without the key, and revokes them', async () => {
    const created = await h.request('POST', '/v1/api-keys', {
      key: acme.admin,
      body: { role: 'query', name: 'dashboard' },
    });
    expect(created).toMatchObject({
      status: 201,
      body: { tenant: 'acme', role: 'query', name: 'dashboard', revoked: false },
    });
    expect(created.body.key).toMatch(/^tally_query_[0-9A-Za-z]{32}$/);
    expect((await h.request('GET', '/v1/meters', { key: created.body.key })).status).toBe(200);

    const list = await h.request('GET', '/v1/api-keys', { key: acme.admin });
    expect(list.body.items.find((k: { id: string }) => k.id === created.body.id)).toMatchObject({
      name: 'dashboard',
    });
    expect(JSON.stringify(list.body)).not.toContain('tally_');

    expect(
      (
        await h.request('POST', '/v1/api-keys', { key: acme.admin, body: { role: 'superuser', name: '' } })
      ).body.error.details.map((d: { field: string }) => d.field),
    ).toEqual(['role', 'name']);
    expect((await h.request('DELETE', `/v1/api-keys/${created.body.id}`, { key: acme.admin })).status).toBe(
      204,
    );
    expect((await h.request('GET', '/v1/meters', { key: created.body.key })).status).toBe(401);
  });

  it("never lets a tenant's keys read, change or delete another tenant's catalog or keys", async () => {
    // Acme owns one of everything.
    await h.request('PUT', '/v1/meters/plays', { key: acme.admin, body: METER });
    await h.request('PUT', '/v1/customers/shared-id', { key: acme.admin, body: { name: 'Acme customer' } });
    await h.request('PUT', '/v1/plans/growth', { key: acme.admin, body: PLAN });
    await h.request('PUT', '/v1/subscriptions/s1', {
      key: acme.admin,
      body: { customer: 'shared-id', plan: 'growth', start: '2026-02-01' },
    });
    await h.request('PUT', '/v1/alert-rules/r1', {
      key: acme.admin,
      body: { meter: 'plays', threshold: { kind: 'absolute', value: '5' } },
    });
    const acmeKey = (await h.request('POST', '/v1/api-keys', { key: acme.admin, body: { role: 'ingest' } }))
      .body;
    const before = await snapshot();

    for (const key of [globex.admin, globex.query]) {
      for (const path of [
        '/v1/customers/shared-id',
        '/v1/meters/plays',
        '/v1/meters/plays/versions',
        '/v1/meters/plays/versions/1',
        '/v1/plans/growth',
        '/v1/subscriptions/s1',
        '/v1/alert-rules/r1',
      ]) {
        expect([path, (await h.request('GET', path, { key })).status]).toEqual([path, 404]);
      }
      for (const path of [
        '/v1/customers',
        '/v1/meters',
        '/v1/plans',
        '/v1/subscriptions',
        '/v1/alert-rules',
      ]) {
        expect([path, (await h.request('GET', path, { key })).body.items]).toEqual([path, []]);
      }
      expect((await h.request('GET', '/v1/tenant', { key })).body.id).toBe('globex');
      expect((await h.request('GET', '/v1/catalog/cache', { key })).body).toMatchObject({
        tenant: 'globex',
        meters: [],
      });
    }

    // Writes with Globex's admin key land in Globex, whatever the body claims, or are refused.
    for (const path of [
      '/v1/customers/shared-id',
      '/v1/plans/growth',
      '/v1/alert-rules/r1',
      '/v1/meters/plays',
    ]) {
      expect((await h.request('DELETE', path, { key: globex.admin })).status).toBe(404);
      const claim = await h.request('PUT', path, {
        key: globex.admin,
        body: { tenant: 'acme', name: 'hijack' },
      });
      expect([path, claim.status, claim.body.error.details[0]]).toEqual([
        path,
        422,
        expect.objectContaining({ field: 'tenant', code: 'TENANT_MISMATCH' }),
      ]);
    }
    const own = await h.request('PUT', '/v1/customers/shared-id', {
      key: globex.admin,
      body: { name: 'Globex customer' },
    });
    expect(own.body).toMatchObject({ tenant: 'globex', name: 'Globex customer' });
    // Globex has neither the meter nor the customer: references resolve inside the key's tenant only.
    const sub = await h.request('PUT', '/v1/subscriptions/s1', {
      key: globex.admin,
      body: { customer: 'shared-id', plan: 'growth', start: '2026-02-01' },
    });
    expect(sub.body.error.details).toEqual([
      expect.objectContaining({ field: 'plan', code: 'UNKNOWN_PLAN' }),
    ]);
    expect(
      (
        await h.request('PUT', '/v1/tenant', {
          key: globex.admin,
          body: { id: 'acme', name: 'x', timezone: 'UTC', currency: 'USD' },
        })
      ).status,
    ).toBe(422);

    // Keys: Globex's admin neither sees nor revokes Acme's.
    const globexKeys = await h.request('GET', '/v1/api-keys', { key: globex.admin });
    expect(globexKeys.body.items.every((k: { tenant: string }) => k.tenant === 'globex')).toBe(true);
    expect((await h.request('DELETE', `/v1/api-keys/${acmeKey.id}`, { key: globex.admin })).status).toBe(404);
    // Still valid: an ingest key is authenticated (403 on the catalog, not 401).
    expect((await h.request('GET', '/v1/tenant', { key: acmeKey.key })).status).toBe(403);

    expect(await snapshot()).toEqual(before);
  });

  /** Acme's whole catalog as stored, to prove nothing of it changed. */
  async function snapshot() {
    return {
      customers: await h.store.listCustomers('acme'),
      meters: await h.store.listMeters('acme'),
      plans: await h.store.listPlans('acme'),
      subscriptions: await h.store.listSubscriptions('acme'),
      alertRules: await h.store.listAlertRules('acme'),
      tenant: await h.store.getTenant('acme'),
    };
  }
});
