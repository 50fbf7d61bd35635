import { QueryHarness } from './query-harness';

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
  let routes: Array<{ method: Method; path: string; url: string }>;

  beforeAll(async () => {
    await h.start();
    acme = await h.tenant('acme');
    const doc = (await h.request('GET', '/docs-json')).body as { paths: Record<string, Partial<Record<Method, unknown>>> };
    routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, ops]) =>
        (Object.keys(ops) as Method[]).map((method) => ({ method, path, url: path.replace(/\{[^}]+\}/g, 'placeholder') })),
      );
  }, 120_000);
  afterAll(async () => {
    await h.stop();
  });

  const call = async (method: Method, url: string, key?: string): Promise<number> =>
    (await h.request(method.toUpperCase(), url, { key, body: method === 'get' || method === 'delete' ? undefined : {} })).status;

  it('finds the routes of every API (catalog, keys, usage, billing, SQL, datasets)', () => {
    const paths = new Set(routes.map((r) => r.path));
    for (const p of ['/v1/customers/{id}', '/v1/api-keys', '/v1/sql', '/v1/datasets']) expect(paths).toContain(p);
    expect(routes.length).toBeGreaterThan(30);
  });

  it('answers 401 to every route without a key, with an unknown key and with a mangled one', async () => {
    const wrong: string[] = [];
    for (const r of routes) {
      for (const key of [undefined, 'tally_admin_' + 'x'.repeat(32), `${acme.admin}x`]) {
        const status = await call(r.method, r.url, key);
        if (status !== 401) wrong.push(`${r.method.toUpperCase()} ${r.path} with ${key ? 'a bad key' : 'no key'}: ${status}`);
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
});
