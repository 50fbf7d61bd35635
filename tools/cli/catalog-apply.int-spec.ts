/**
 * `tally catalog apply` against the real NATS while the query service runs: the second apply of the
 * same file changes nothing, and the running service sees applied changes without a restart.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { CatalogStore } from '@tally/catalog';
import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import { connectNats, natsNames, type NatsConnection } from '@tally/nats';
import {
  freePort,
  randomPrefix,
  startService,
  testNatsUrl,
  waitFor,
  waitForMeasured,
  workspaceRoot,
  type ServiceProcess,
  testNatsAuth,
  testNatsEnv,
} from '@tally/testing';
import { runTally, type CliDeps } from './cli';
import { connectCatalog } from './connect';

const CATALOG = `
tenant: acme
customers:
  - id: acct_67890
    name: Globex
    timezone: Europe/Berlin
  - id: "globex/eu west"
meters:
  - key: plays
    name: Songs played
    eventTypes: [Song played]
    aggregation: count
    groupBy: [artist]
plans:
  - id: growth-2026
    name: Growth
    currency: USD
    charges:
      - { id: base, name: Platform fee, kind: flat, amount: "49" }
      - { id: plays, name: Plays, kind: per_unit, meter: plays, unitPrice: "0.001", freeUnits: "10000" }
subscriptions:
  - { id: sub_globex_growth, customer: acct_67890, plan: growth-2026, start: "2026-02-01" }
alertRules:
  - id: plays-80pct
    meter: plays
    customer: acct_67890
    threshold: { kind: percent_of_allowance, percent: 80, allowance: "10000" }
`;

describe('tally catalog apply with the query service running', () => {
  const names = natsNames(randomPrefix('t'));
  let nc: NatsConnection;
  let db: TestDatabase;
  let store: CatalogStore;
  let query: ServiceProcess;
  let url: string;
  let dir: string;
  let deps: CliDeps;
  let key: string;

  /** A GET to the query service with the query key the CLI created. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any shape, read field by field
  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    nc = await connectNats(testNatsUrl(), 'catalog-apply.int-spec', testNatsAuth());
    db = await createTestDatabase();
    store = await CatalogStore.open(nc, names);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    query = startService('query', {
      NATS_URL: testNatsUrl(),
      TALLY_NATS_PREFIX: names.prefix,
      CLICKHOUSE_DATABASE: db.database,
      QUERY_PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    dir = await mkdtemp(path.join(tmpdir(), 'tally-catalog-'));
    deps = {
      env: { NATS_URL: testNatsUrl(), TALLY_NATS_PREFIX: names.prefix, ...testNatsEnv() },
      readFile: (file) => readFile(file, 'utf8'),
      connect: connectCatalog,
    };
    const tenant = await runTally(
      ['tenant', 'create', 'acme', '--timezone', 'UTC', '--currency', 'USD'],
      deps,
    );
    expect(tenant).toMatchObject({ code: 0, stdout: expect.stringContaining('tenant acme created') });
    const created = await runTally(['key', 'create', 'acme', '--role', 'query'], deps);
    key = created.stdout.trim();
    // Up, and its key store has the key the CLI just wrote to the bucket.
    await waitFor(
      async () => {
        if (query.child.exitCode !== null) throw new Error(`query exited early:\n${query.output()}`);
        return (
          await fetch(`${url}/v1/tenant`, { headers: { authorization: `Bearer ${key}` } }).catch(
            () => undefined,
          )
        )?.ok;
      },
      { timeoutMs: 60_000, what: 'the query service to accept the new key' },
    );
  });
  afterAll(async () => {
    await query?.stop();
    await rm(dir, { recursive: true, force: true });
    const jsm = await jetstreamManager(nc);
    for (const bucket of [names.catalogBucket, names.apiKeysBucket])
      await jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
    await nc?.close();
    await db?.drop();
  });

  /** Milliseconds until the service's in-memory catalog shows `meter` at `version` (logged). */
  function msUntilServed(meter: string, version: number): Promise<number> {
    return waitForMeasured(
      `meter ${meter} v${version} in the query service's cache`,
      async () => {
        const view = await get('/v1/catalog/cache');
        return view.body.meters.some(
          (m: { key: string; version: number }) => m.key === meter && m.version === version,
        );
      },
      { intervalMs: 10 },
    );
  }

  it('applies a catalog, changes nothing the second time, and the service picks it up without a restart', async () => {
    const file = path.join(dir, 'catalog.yaml');
    await writeFile(file, CATALOG);
    expect((await get('/v1/catalog/cache')).body.meters).toEqual([]);

    const first = await runTally(['catalog', 'apply', '-f', file], deps);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain('created    meter plays (version 1)');
    expect(first.stdout).toContain('6 created, 0 updated, 0 unchanged');
    await msUntilServed('plays', 1);

    const second = await runTally(['catalog', 'apply', '-f', file], deps);
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect(second.stdout).toContain('no changes (6 unchanged)');
    expect(second.stdout).not.toMatch(/created|updated/);

    // Everything applied is served by the API, read with the key the CLI created.
    const sub = await get('/v1/subscriptions/sub_globex_growth');
    expect(sub.body).toMatchObject({ tenant: 'acme', customer: 'acct_67890', plan: 'growth-2026' });
    expect((await get(`/v1/customers/${encodeURIComponent('globex/eu west')}`)).status).toBe(200);

    await writeFile(
      file,
      CATALOG.replace('aggregation: count', 'aggregation: unique_count\n    valueProperty: user'),
    );
    const third = await runTally(['catalog', 'apply', '-f', file], deps);
    expect(third.stdout).toContain('updated    meter plays: aggregation, valueProperty (version 2)');
    expect(third.stdout).toContain('0 created, 1 updated, 5 unchanged');
    await msUntilServed('plays', 2);
  });

  it('exports what it applied, and the export applies without changes', async () => {
    const exported = await runTally(['catalog', 'export', '--tenant', 'acme'], deps);
    expect(exported.code).toBe(0);
    const file = path.join(dir, 'export.yaml');
    await writeFile(file, exported.stdout);
    const dry = await runTally(['catalog', 'apply', '-f', file, '--dry-run'], deps);
    expect(dry.stdout).toContain('no changes (7 unchanged)');
  });

  it('refuses a document with mistakes before writing anything', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(
      file,
      CATALOG.replace('unitPrice: "0.001"', 'unitPrice: 0.001').replace('id: acct_67890\n', 'id: acct_new\n'),
    );
    const before = await store.listCustomers('acme');
    const result = await runTally(['catalog', 'apply', '-f', file], deps);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('plans[0].charges[1].unitPrice: INVALID_DECIMAL');
    expect(await store.listCustomers('acme')).toEqual(before);
  });

  it('runs as a process: `tally catalog export` piped into `tally catalog apply -f - --dry-run`', async () => {
    const tally = (args: string[], stdin = '') =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/cli/tally.ts', ...args], {
          cwd: workspaceRoot,
          env: {
            ...process.env,
            SWC_NODE_PROJECT: path.join(workspaceRoot, 'tsconfig.base.json'),
            NATS_URL: testNatsUrl(),
            ...testNatsEnv(),
            TALLY_NATS_PREFIX: names.prefix,
          },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(stdin);
      });
    const exported = await tally(['catalog', 'export', '--tenant', 'acme']);
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    const applied = await tally(['catalog', 'apply', '-f', '-', '--dry-run'], exported.stdout);
    expect(applied).toMatchObject({ code: 0, stderr: '' });
    expect(applied.stdout).toContain('no changes (7 unchanged)');
  });
});
