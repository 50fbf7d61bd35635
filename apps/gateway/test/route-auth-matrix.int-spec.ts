import { headers as natsHeaders } from '@nats-io/transport-node';
import { identifier, sql } from '@tally/clickhouse';
import { waitFor } from '@tally/testing';
import { IngestionHarness } from './ingestion-harness';

/**
 * Every route the running gateway registers × every kind of caller (docs/security.md#tests-that-cover-every-route).
 *
 * The routes are read from the gateway process itself: started with LOG_LEVEL=info, Nest logs one
 * "Mapped {<path>, <METHOD>} route" line per route its router registers, so a new controller or
 * handler is in the matrix the day it lands (the gateway has no OpenAPI document). A new `/v1` route
 * fails the first test until it has a request below; a new route outside `/v1` fails it until it is
 * listed as public.
 *
 * Callers: no key, an unknown key and a mangled one (401); Acme's query key (403: only `ingest` and
 * `admin` keys may write, docs/catalog.md#api-keys, docs/analytics-engine.md); Acme's own ingest and
 * admin keys (202); Globex's ingest, admin (202, written into Globex) and query (403) keys. Never a 5xx.
 * Every request carries ids of its own; afterwards ClickHouse holds exactly the ids of the accepted
 * requests, each under the tenant of its key: nothing sent with Globex's keys is in Acme's events or
 * datasets, nothing refused is anywhere.
 *
 * Datasets: Acme has a `billing` dataset that Globex does not. Globex's keys writing to that name get
 * 202, not 404: a dataset nobody declared is created on its first data point (docs/analytics-engine.md),
 * per tenant, so the write creates Globex's own `analytics` dataset and Acme's is untouched.
 */
describe('gateway: every route × every caller (routes read from the running gateway)', () => {
  const h = new IngestionHarness({ gatewayEnv: { LOG_LEVEL: 'info' } });
  const DATASET = 'ds_acme_only_7q2x';
  /** Routes outside `/v1` that answer anyone, with nothing about any tenant. */
  const PUBLIC = new Set(['GET /health']);
  let routes: string[];
  const keys: Record<string, string | undefined> = {};
  let runId: string;

  beforeAll(async () => {
    await h.start();
    const acme = await h.tenant('acme');
    const globex = await h.tenant('globex');
    const [acmeAdmin, globexAdmin] = await Promise.all([
      h.keys.create('acme', 'admin', 'matrix admin'),
      h.keys.create('globex', 'admin', 'matrix admin'),
    ]);
    for (const key of [acmeAdmin.key, globexAdmin.key])
      await waitFor(async () => (await h.post({ events: [] }, key)).status !== 401, {
        what: 'admin key to propagate',
      });
    await h.catalog.putDataset({ tenant: 'acme', name: DATASET, kind: 'billing' });
    Object.assign(keys, {
      none: undefined,
      unknown: 'tally_ingest_' + 'x'.repeat(32),
      mangled: `${acme.ingestKey}x`,
      acmeQuery: acme.queryKey,
      acmeIngest: acme.ingestKey,
      acmeAdmin: acmeAdmin.key,
      globexIngest: globex.ingestKey,
      globexAdmin: globexAdmin.key,
      globexQuery: globex.queryKey,
    });
    runId = Date.now().toString(36);
    routes = [
      ...new Set(
        h.gateway
          .output()
          .split('\n')
          .flatMap((line) => {
            const m = /Mapped \{([^,]+), (\w+)\} route/.exec(line);
            return m ? [`${m[2]} ${m[1]}`] : [];
          }),
      ),
    ].sort();
  }, 120_000);
  afterAll(async () => {
    await h.stop();
  });

  /** What each caller must get on a `/v1` route, and the tenant its accepted writes must land in. */
  const expected: Record<string, { status: number; tenant?: string }> = {
    none: { status: 401 },
    unknown: { status: 401 },
    mangled: { status: 401 },
    acmeQuery: { status: 403 },
    globexQuery: { status: 403 },
    acmeIngest: { status: 202, tenant: 'acme' },
    acmeAdmin: { status: 202, tenant: 'acme' },
    globexIngest: { status: 202, tenant: 'globex' },
    globexAdmin: { status: 202, tenant: 'globex' },
  };

  /** The request Acme would send on each route, carrying `id` (an event id or a data point id). */
  const requests: Record<string, (id: string) => { url: string; body: unknown }> = {
    'POST /v1/events': (id) => ({
      url: '/v1/events',
      body: {
        events: [
          {
            eventId: id,
            timestamp: Date.now() - 1_000,
            customerId: 'cus_7q2x',
            metricName: 'call',
            quantity: '1',
          },
        ],
      },
    }),
    'POST /v1/datasets/:name/points': (id) => ({
      url: `/v1/datasets/${DATASET}/points`,
      body: { points: [{ id, indexes: ['cus_7q2x'], blobs: ['/x'], doubles: [1] }] },
    }),
  };
  const tableOf: Record<string, 'events' | 'datapoints'> = {
    'POST /v1/events': 'events',
    'POST /v1/datasets/:name/points': 'datapoints',
  };
  /** Ids sent per route and caller (filled by the matrix test). */
  const sent: Array<{ route: string; caller: string; id: string }> = [];

  const call = async (method: string, url: string, key: string | undefined, body?: unknown) => {
    const response = await fetch(`${h.gatewayUrl}${url}`, {
      method,
      headers: {
        ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };

  it('reads the routes from the running gateway; every /v1 route has a request here, every other route is public', () => {
    expect(routes).toEqual(expect.arrayContaining(['POST /v1/events', 'POST /v1/datasets/:name/points']));
    const v1 = routes.filter((r) => r.split(' ')[1].startsWith('/v1/'));
    expect(v1.filter((r) => !requests[r])).toEqual([]);
    expect(routes.filter((r) => !r.split(' ')[1].startsWith('/v1/') && !PUBLIC.has(r))).toEqual([]);
    process.stdout.write(`gateway routes: ${routes.join(', ')}\n`);
  });

  it('answers every /v1 route 401 without a valid key, 403 to query keys, 202 to ingest and admin keys of either tenant; never a 5xx', async () => {
    const table: string[] = [];
    const wrong: string[] = [];
    for (const route of routes.filter((r) => requests[r])) {
      const method = route.split(' ')[0];
      const row: string[] = [];
      for (const [caller, want] of Object.entries(expected)) {
        const id = `mx_${runId}_${route.includes('points') ? 'p' : 'e'}_${caller}`;
        const req = requests[route](id);
        const answer = await call(method, req.url, keys[caller], req.body);
        sent.push({ route, caller, id });
        row.push(`${caller} ${answer.status}`);
        if (answer.status !== want.status || answer.status >= 500)
          wrong.push(
            `${route} with ${caller}: ${answer.status} ${answer.text.slice(0, 200)} (expected ${want.status})`,
          );
      }
      table.push(`${route}: ${row.join(', ')}`);
    }
    process.stdout.write(`gateway route × caller:\n${table.join('\n')}\n`);
    expect(wrong).toEqual([]);
  });

  it('answers every public route the same to every caller, without any tenant data', async () => {
    for (const route of routes.filter((r) => PUBLIC.has(r))) {
      const [method, url] = route.split(' ');
      const anonymous = await call(method, url, undefined);
      expect(anonymous.status).toBe(200);
      for (const caller of Object.keys(expected)) {
        const answer = await call(method, url, keys[caller]);
        expect([caller, answer.status, answer.text]).toEqual([caller, anonymous.status, anonymous.text]);
        expect(answer.text).not.toMatch(/acme|globex/);
      }
    }
  });

  it("refuses a key of Globex on Acme's NATS ingress subjects (403), even from a client NATS lets publish there", async () => {
    // NATS permissions keep Globex's ingest user off Acme's subjects (libs/nats/src/permissions.int-spec.ts);
    // this is the gateway's own check behind them, reached here with the services user.
    const request = async (subject: string, key: string | undefined, body: unknown) => {
      const hdr = natsHeaders();
      hdr.set('Authorization', `Bearer ${key ?? ''}`);
      hdr.set('Content-Type', 'application/json');
      const reply = await h.nc.request(subject, JSON.stringify(body), { headers: hdr, timeout: 10_000 });
      return reply.headers?.get('Tally-Status');
    };
    for (const caller of ['globexIngest', 'globexAdmin']) {
      const eventId = `mx_${runId}_nats_e_${caller}`;
      const pointId = `mx_${runId}_nats_p_${caller}`;
      expect(
        await request(h.names.ingestSubject('acme'), keys[caller], requests['POST /v1/events'](eventId).body),
      ).toBe('403');
      expect(
        await request(
          h.names.pointsIngestSubject('acme', DATASET),
          keys[caller],
          requests['POST /v1/datasets/:name/points'](pointId).body,
        ),
      ).toBe('403');
      sent.push({ route: 'NATS events', caller: `${caller}@acme`, id: eventId });
      sent.push({ route: 'NATS points', caller: `${caller}@acme`, id: pointId });
    }
  });

  it("stores each accepted write under its key's tenant only: nothing of Globex's keys in Acme's events or dataset, nothing refused anywhere", async () => {
    const accepted = sent.filter((s) => expected[s.caller]?.tenant);
    const want = (table: string) =>
      accepted
        .filter((s) => tableOf[s.route] === table)
        .map((s) => `${expected[s.caller].tenant} ${s.id}`)
        .sort();
    const stored = async (table: 'events' | 'datapoints') => {
      const column = table === 'events' ? 'event_id' : 'point_id';
      const rows = await h.db.client.query<{ row: string }>(
        sql`SELECT DISTINCT concat(tenant, ' ', ${identifier(column)}) AS row FROM ${h.db.client.table(table)} WHERE startsWith(${identifier(column)}, ${`mx_${runId}_`})`,
      );
      return rows.map((r) => r.row).sort();
    };
    expect(want('events').length).toBeGreaterThan(0);
    expect(want('datapoints').length).toBeGreaterThan(0);
    await h.waitForDrained();
    for (const table of ['events', 'datapoints'] as const)
      await waitFor(async () => (await stored(table)).length >= want(table).length, {
        what: `the accepted ${table} in ClickHouse`,
      });
    // A moment for anything that should not be there to arrive too.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await h.waitForDrained();
    expect(await stored('events')).toEqual(want('events'));
    expect(await stored('datapoints')).toEqual(want('datapoints'));
    // Acme's dataset is still its billing dataset; Globex's writes created a dataset of Globex's own.
    expect((await h.catalog.getDataset('acme', DATASET))?.value).toMatchObject({
      tenant: 'acme',
      kind: 'billing',
    });
    expect((await h.catalog.getDataset('globex', DATASET))?.value).toMatchObject({
      tenant: 'globex',
      kind: 'analytics',
    });
    const datasets = await h.db.client.query<{ row: string }>(
      sql`SELECT DISTINCT concat(tenant, ' ', dataset) AS row FROM ${h.db.client.table('datapoints')} WHERE startsWith(point_id, ${`mx_${runId}_`})`,
    );
    expect(datasets.map((r) => r.row).sort()).toEqual([`acme ${DATASET}`, `globex ${DATASET}`]);
  }, 90_000);
});
