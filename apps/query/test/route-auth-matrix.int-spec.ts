import { computeInvoice, InvoiceLedger } from '@tally/billing';
import { customerPeriod } from '@tally/billing-periods';
import { insertEvents } from '@tally/clickhouse';
import { waitFor } from '@tally/testing';
import { QueryHarness, seg } from './query-harness';

type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';

/**
 * Every route of the query service's OpenAPI document (so a new route is covered the day it lands)
 * × every kind of caller that must be refused: no key, an unknown key, a key of the wrong role
 * (docs/security.md). Path parameters are filled with placeholders: authentication and the role
 * check come before anything reads them, so the answer must not depend on them, and is never a 5xx.
 */
describe('query API: every route refuses callers without the right key (generated from the OpenAPI document)', () => {
  const h = new QueryHarness();
  let acme: Awaited<ReturnType<QueryHarness['tenant']>>;
  let globex: Awaited<ReturnType<QueryHarness['tenant']>>;
  let routes: Array<{ method: Method; path: string; url: string }>;

  beforeAll(async () => {
    await h.start();
    [acme, globex] = await Promise.all([h.tenant('acme'), h.tenant('globex')]);
    const doc = (await h.request('GET', '/docs-json')).body as {
      paths: Record<string, Partial<Record<Method, unknown>>>;
    };
    routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, ops]) =>
        (Object.keys(ops) as Method[]).map((method) => ({
          method,
          path,
          url: path.replace(/\{[^}]+\}/g, 'placeholder'),
        })),
      );
  }, 120_000);
  afterAll(async () => {
    await h.stop();
  });

  const call = async (method: Method, url: string, key?: string): Promise<number> =>
    (
      await h.request(method.toUpperCase(), url, {
        key,
        body: method === 'get' || method === 'delete' ? undefined : {},
      })
    ).status;

  it('finds the routes of every API (catalog, keys, usage, billing, SQL, datasets)', () => {
    const paths = new Set(routes.map((r) => r.path));
    for (const p of ['/v1/customers/{id}', '/v1/api-keys', '/v1/sql', '/v1/datasets'])
      expect(paths).toContain(p);
    expect(routes.length).toBeGreaterThan(30);
  });

  it('answers 401 to every route without a key, with an unknown key and with a mangled one', async () => {
    const wrong: string[] = [];
    for (const r of routes) {
      for (const key of [undefined, 'tally_admin_' + 'x'.repeat(32), `${acme.admin}x`]) {
        const status = await call(r.method, r.url, key);
        if (status !== 401)
          wrong.push(`${r.method.toUpperCase()} ${r.path} with ${key ? 'a bad key' : 'no key'}: ${status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('answers 403 to every route for an ingest key, and to every write for a query key', async () => {
    const wrong: string[] = [];
    // Reads sent as POST because of their body: a query key may use them.
    const readsByPost = new Set(['/v1/sql']);
    for (const r of routes) {
      const ingest = await call(r.method, r.url, acme.ingest);
      if (ingest !== 403) wrong.push(`${r.method.toUpperCase()} ${r.path} with an ingest key: ${ingest}`);
      if (r.method === 'get' || readsByPost.has(r.path) || /\/query$|\/usage/.test(r.path)) continue;
      const query = await call(r.method, r.url, acme.query);
      if (query !== 403) wrong.push(`${r.method.toUpperCase()} ${r.path} with a query key: ${query}`);
    }
    expect(wrong).toEqual([]);
  });

  /**
   * The "another tenant's key" column: Acme owns one of everything (customer, meter, plan,
   * subscription, alert rule, dataset, API key, credit grant, events, an invoice); every route is
   * called as Acme would call it for its own data, with each of Globex's keys (admin, query,
   * ingest). A request that names an Acme resource in its path must answer 401, 403 or 404; no
   * answer to any route may contain Acme's data (names, ids the request did not carry, keys,
   * invoice ids). Acme's own key gets 2xx for every read, so each 404 is the tenant check, not a
   * malformed request; Acme's data is unchanged afterwards.
   *
   * How it fails: a lookup that dropped its tenant (e.g. `CatalogStore.getCustomer` reading the
   * customer by id alone, or a ClickHouse query without `tenant = ...`) answers Globex 200 with
   * Acme's customer or usage, breaking both the status and the data assertion.
   */
  describe("another tenant's key", () => {
    const CUS = 'cus_acme_7q2x';
    const SUB = 'sub_acme_7q2x';
    const PLAN = 'plan_acme_7q2x';
    const PLAN2 = 'plan2_acme_7q2x';
    const METER = 'meter_acme_7q2x';
    const RULE = 'rule_acme_7q2x';
    const DATASET = 'ds_acme_7q2x';
    const GRANT = 'grant_acme_7q2x';
    const RANGE = 'from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z';
    let invoiceId: string;
    let acmeKeyId: string;
    /** Acme's data that Globex never sends: none of it may appear in an answer to Globex. */
    let secrets: string[];

    const acmeSnapshot = async () => {
      const out: Record<string, unknown> = {};
      for (const path of [
        `/v1/customers/${CUS}`,
        `/v1/plans/${PLAN}`,
        `/v1/meters/${METER}`,
        `/v1/subscriptions/${SUB}`,
        `/v1/alert-rules/${RULE}`,
        `/v1/customers/${CUS}/invoices`,
        `/v1/customers/${CUS}/credits`,
        '/v1/api-keys',
        '/v1/datasets',
        '/v1/tenant',
      ])
        out[path] = (await h.request('GET', path, { key: acme.admin })).body;
      return out;
    };
    let before: Record<string, unknown>;

    beforeAll(async () => {
      const put = async (path: string, body: unknown) => {
        const r = await h.request('PUT', path, { key: acme.admin, body });
        if (r.status >= 300) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
      };
      await put(`/v1/meters/${METER}`, {
        name: 'Acme confidential meter',
        eventTypes: ['call'],
        aggregation: 'count',
      });
      await put(`/v1/customers/${CUS}`, { name: 'Acme Confidential Customer' });
      // Globex meters the same event type: then only ClickHouse's tenant filter keeps Acme's events
      // out of Globex's usage answers (a usage query without it would count them).
      const globexMeter = await h.request('PUT', '/v1/meters/meter_globex_7q2x', {
        key: globex.admin,
        body: { name: 'Globex meter', eventTypes: ['call'], aggregation: 'count' },
      });
      if (globexMeter.status >= 300) throw new Error(`globex meter: ${globexMeter.status}`);
      const plan = (name: string) => ({
        name,
        currency: 'USD',
        charges: [
          { id: 'base', name: 'Acme base fee', kind: 'flat', amount: '49' },
          { id: 'calls', name: 'Acme calls', kind: 'per_unit', meter: METER, unitPrice: '0.01' },
        ],
      });
      await put(`/v1/plans/${PLAN}`, plan('Acme Secret Plan'));
      await put(`/v1/plans/${PLAN2}`, plan('Acme Secret Plan 2'));
      await put(`/v1/subscriptions/${SUB}`, { customer: CUS, plan: PLAN, start: '2026-01-01' });
      await put(`/v1/alert-rules/${RULE}`, { meter: METER, threshold: { kind: 'absolute', value: '5' } });
      await put(`/v1/datasets/${DATASET}`, { kind: 'billing' });
      const key = await h.request('POST', '/v1/api-keys', {
        key: acme.admin,
        body: { role: 'query', name: 'acme-dashboard-7q2x' },
      });
      acmeKeyId = key.body.id;
      const grant = await h.request('POST', `/v1/customers/${CUS}/credits/entries`, {
        key: acme.admin,
        body: { type: 'grant', id: GRANT, currency: 'USD', amountMinor: '5000', effective: '2026-02-01' },
      });
      if (grant.status !== 201) throw new Error(`grant: ${grant.status} ${JSON.stringify(grant.body)}`);
      await insertEvents(
        h.db.client,
        h.db.database,
        [1, 2, 3].map((i) => ({
          tenant: 'acme',
          customer: CUS,
          eventType: 'call',
          ts: Date.parse('2026-03-0' + i + 'T10:00:00Z') / 1000,
          tsMs: 0,
          eventId: `evt_acme_7q2x_${i}`,
          quantity: '1',
          properties: {},
          source: 'test',
          schemaVersion: '1',
          requestId: '',
          receivedAt: Date.parse('2026-03-0' + i + 'T10:00:00Z') / 1000,
          payloadHash: `evt_acme_7q2x_${i}`,
        })),
      );
      const period = customerPeriod([{ id: SUB, plan: PLAN, start: '2026-01-01' }], '2026-02', 'UTC');
      if (!period) throw new Error('no period');
      const invoice = computeInvoice({
        tenant: 'acme',
        customer: CUS,
        period,
        pricing: {
          subscriptions: period.subscriptions,
          plans: {
            [PLAN]: {
              id: PLAN,
              currency: 'USD',
              charges: [{ id: 'base', name: 'Acme base fee', kind: 'flat', amount: '49' }],
            },
          },
          meterVersions: {},
        },
        usage: {},
        fingerprint: { eventCount: '0', checksum: '0' },
        issuedBy: 'test',
        createdAt: '2026-03-01T00:00:00.000Z',
      });
      invoiceId = invoice.invoiceId;
      await new InvoiceLedger(h.db.client).insert([invoice]);
      await waitFor(
        async () =>
          JSON.stringify(
            (await h.request('GET', `/v1/customers/cus_nobody_9k3m/usage?${RANGE}`, { key: globex.query }))
              .body,
          ).includes('meter_globex_7q2x'),
        { what: "Globex's meter in the query service" },
      );
      // The query service's catalog cache follows the bucket: wait until it has Acme's subscription.
      await waitFor(
        async () =>
          (await h.request('GET', `/v1/customers/${CUS}/current-usage`, { key: acme.query })).status === 200,
        {
          what: "Acme's catalog in the query service",
        },
      );
      secrets = [
        'Acme Confidential Customer',
        'Acme Secret Plan',
        'Acme confidential meter',
        'Acme base fee',
        'acme-dashboard-7q2x',
        'evt_acme_7q2x',
        acme.admin,
        acme.query,
        acme.ingest,
        acmeKeyId,
        invoiceId,
        CUS,
        SUB,
        PLAN,
        METER,
        RULE,
        DATASET,
        GRANT,
      ];
      before = await acmeSnapshot();
    }, 120_000);

    /** Ids of the resources the requests name: Acme's, or ones no tenant has (the control). */
    interface Ids {
      customer: string;
      subscription: string;
      plan: string;
      plan2: string;
      meter: string;
      rule: string;
      dataset: string;
      grant: string;
      apiKey: string;
      invoice: string;
    }
    const acmeIds = (): Ids => ({
      customer: CUS,
      subscription: SUB,
      plan: PLAN,
      plan2: PLAN2,
      meter: METER,
      rule: RULE,
      dataset: DATASET,
      grant: GRANT,
      apiKey: acmeKeyId,
      invoice: invoiceId,
    });
    /** The same shapes, owned by nobody: Globex's answer for Acme's ids must not differ from its answer for these. */
    const nobodyIds = (): Ids => ({
      customer: 'cus_nobody_9k3m',
      subscription: 'sub_nobody_9k3m',
      plan: 'plan_nobody_9k3m',
      plan2: 'plan2_nobody_9k3m',
      meter: 'meter_nobody_9k3m',
      rule: 'rule_nobody_9k3m',
      dataset: 'ds_nobody_9k3m',
      grant: 'grant_nobody_9k3m',
      apiKey: acmeKeyId.replace(/[0-9a-f]/g, '0'),
      invoice: invoiceId.replace(/-[0-9a-f]{16}-/, '-0000000000000000-'),
    });

    /** The request Acme would send for its own data on this route (with `ids`: Acme's, or nobody's). */
    const request = (method: Method, path: string, ids: Ids): { url: string; body?: unknown } => {
      const byCollection: Record<string, string> = {
        customers: ids.customer,
        plans: ids.plan,
        subscriptions: ids.subscription,
        'alert-rules': ids.rule,
        'api-keys': ids.apiKey,
        invoices: ids.invoice,
        simulations: 'sim_acme_7q2x',
        datasets: ids.dataset,
        meters: ids.meter,
      };
      let url = path
        .replace('/versions/{version}', '/versions/1')
        .replace('/entitlements/{meter}', `/entitlements/${seg(ids.meter)}`)
        .replace('/replays/{replayId}', '/replays/replay_acme_7q2x')
        .replace(
          /\/([a-z-]+)\/\{[^}]+\}/g,
          (_, collection: string) => `/${collection}/${seg(byCollection[collection] ?? 'acme_7q2x')}`,
        );
      if (/\/query$|\/top-customers$|\/usage$/.test(url)) url += `?${RANGE}`;
      const plan = {
        name: 'Acme Secret Plan',
        currency: 'USD',
        charges: [{ id: 'base', name: 'Acme base fee', kind: 'flat', amount: '49' }],
      };
      const bodies: Record<string, unknown> = {
        'PUT /v1/tenant': { id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' },
        'PUT /v1/customers/{id}': { name: 'Acme Confidential Customer' },
        'PUT /v1/meters/{key}': {
          name: 'Acme confidential meter',
          eventTypes: ['call'],
          aggregation: 'count',
        },
        'PUT /v1/plans/{id}': plan,
        'POST /v1/subscriptions': {
          id: 'sub2_acme_7q2x',
          customer: ids.customer,
          plan: ids.plan,
          start: '2026-01-01',
        },
        'PUT /v1/subscriptions/{id}': { customer: ids.customer, plan: ids.plan, start: '2026-01-01' },
        'POST /v1/subscriptions/{id}/change-plan': { plan: ids.plan2, effective: '2026-06-01' },
        'POST /v1/subscriptions/{id}/cancel': { effective: '2026-12-01' },
        'POST /v1/subscriptions/{id}/pause': { effective: '2026-06-01', resumeOn: '2026-06-20' },
        'POST /v1/subscriptions/{id}/resume': { effective: '2026-07-01' },
        'POST /v1/customers/{id}/credits/entries': {
          type: 'void',
          id: 'void_acme_7q2x',
          grantId: ids.grant,
          date: '2026-02-10',
        },
        'PUT /v1/alert-rules/{id}': { meter: ids.meter, threshold: { kind: 'absolute', value: '5' } },
        'POST /v1/api-keys': { role: 'admin', name: 'made by the caller' },
        'POST /v1/invoices/{id}/payment-export': {},
        'POST /v1/invoices/{id}/credit-notes': { reason: 'outage' },
        'POST /v1/dead-letters/replay': { dryRun: true, filter: { customer: ids.customer } },
        'POST /v1/simulations': {
          customer: ids.customer,
          plan: ids.plan,
          from: '2026-01-01',
          to: '2026-02-01',
        },
        'POST /v1/sql': { query: `SELECT count() AS n FROM ${ids.dataset}` },
        'PUT /v1/datasets/{name}': { kind: 'billing' },
      };
      return {
        url,
        body:
          bodies[`${method.toUpperCase()} ${path}`] ??
          (method === 'get' || method === 'delete' ? undefined : {}),
      };
    };
    const acmeRequest = (method: Method, path: string) => request(method, path, acmeIds());

    it("Acme's own key reads every one of its resources (the requests below address real data)", async () => {
      const wrong: string[] = [];
      for (const r of routes.filter(
        (x) => x.method === 'get' && !x.path.includes('simulations/') && !x.path.includes('replays/'),
      )) {
        const req = acmeRequest(r.method, r.path);
        const answer = await h.request('GET', req.url, { key: acme.admin });
        if (answer.status !== 200)
          wrong.push(`GET ${req.url}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
      }
      expect(wrong).toEqual([]);
      const own = JSON.stringify(
        (await h.request('GET', `/v1/customers/${CUS}/invoices`, { key: acme.admin })).body,
      );
      expect(own).toContain(invoiceId);
      const sql = await h.request('POST', '/v1/sql', {
        key: acme.query,
        body: acmeRequest('post', '/v1/sql').body,
      });
      expect([sql.status, sql.body.data]).toEqual([200, [{ n: '0' }]]);
      // Acme's usage is real: the events above are counted (so Globex's empty answers are the tenant filter).
      const usage = await h.request('GET', `/v1/customers/${CUS}/usage?${RANGE}`, { key: acme.query });
      expect(JSON.stringify(usage.body)).toContain('"3"');
    });

    it("answers Globex's admin, query and ingest keys 401/403/404 on every route that names an Acme resource (or exactly as for an id nobody has), and never with Acme's data", async () => {
      const wrong: string[] = [];
      const [acme, nobody] = [acmeIds(), nobodyIds()];
      /** An answer with Acme's ids replaced by nobody's, and moments in time blanked (they differ between two calls). */
      const normalized = (text: string) =>
        (Object.keys(acme) as (keyof Ids)[])
          .reduce((t, k) => t.split(acme[k]).join(nobody[k]), text)
          .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>');
      // Upserts last: a PUT by Globex creates Globex's own resource under the same id, which would
      // turn a later GET of that id into a legitimate 200.
      const ordered = [...routes].sort((a, b) => Number(a.method === 'put') - Number(b.method === 'put'));
      for (const r of ordered) {
        const req = request(r.method, r.path, acme);
        const control = request(r.method, r.path, nobody);
        for (const role of ['ingest', 'query', 'admin'] as const) {
          const answer = await h.request(r.method.toUpperCase(), req.url, {
            key: globex[role],
            body: req.body,
          });
          const label = `${r.method.toUpperCase()} ${req.url} with Globex's ${role} key: ${answer.status}`;
          const text = JSON.stringify(answer.body ?? '');
          const sent = `${req.url} ${JSON.stringify(req.body ?? '')}`;
          const leaked = secrets.filter((v) => !sent.includes(v) && text.includes(v));
          if (leaked.length) wrong.push(`${label} contains Acme's ${leaked.join(', ')}`);
          const namesAcme = /\{[^}]+\}/.test(r.path) && r.method !== 'put';
          if (r.method === 'put') {
            // An upsert by Globex lands in Globex (ids are per tenant), or is refused.
            if (answer.status < 300 && answer.body?.tenant !== undefined && answer.body.tenant !== 'globex')
              wrong.push(`${label} wrote tenant ${answer.body.tenant}`);
            continue;
          }
          if (!namesAcme && answer.status < 500) continue;
          if ([401, 403, 404].includes(answer.status)) continue;
          // Anything else (a 200 with an empty usage for a customer id Globex never used, a 501
          // without a payment provider) must be exactly Globex's answer for an id nobody has:
          // Acme's resources look like ones that do not exist.
          const other = await h.request(r.method.toUpperCase(), control.url, {
            key: globex[role],
            body: control.body,
          });
          const same =
            other.status === answer.status &&
            normalized(JSON.stringify(other.body ?? '')) === normalized(text);
          if (!same)
            wrong.push(
              `${label}, but ${other.status} for an id nobody has: ${text.slice(0, 300)} / ${JSON.stringify(other.body).slice(0, 300)}`,
            );
        }
      }
      expect(wrong).toEqual([]);
      expect(await acmeSnapshot()).toEqual(before);
    });
  });
});
