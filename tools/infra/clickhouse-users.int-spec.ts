import { SqlApiService, ClickHouseAnalyticsRunner } from '@tally/analytics-api';
import { createClickHouse, migrate, type ClickHouse } from '@tally/clickhouse';
import type { TallyError } from '@tally/errors';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const INFRA = join(__dirname, 'infra.sh');
/** The reader profile's memory limit in this test: small, so a GROUP BY of a million keys exceeds it. */
const READER_MAX_MEMORY = 20_000_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * tools/infra/infra.sh's ClickHouse users (docs/security.md#clickhouse) on a ClickHouse 18.16 server of
 * this test's own (own data directory and ports; the shared server is never touched): one user per
 * service, and `tally_reader`, read-only with its settings profile and quota, for tenants' queries.
 */
describe('ClickHouse users from infra.sh (own 18.16 server)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let url: string;
  let admin: ClickHouse;
  const handles: ClickHouse[] = [];
  const database = `t_users_${process.pid}`;

  const infra = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run('bash', [INFRA, ...args], { env: { ...env, ...extra }, timeout: 120_000 });
  const as = (username: string, password: string): ClickHouse => {
    // A long request timeout: the test's million-row insert runs on a busy shared machine.
    const ch = createClickHouse({ url, username, password, database, requestTimeoutMs: 180_000 });
    handles.push(ch);
    return ch;
  };
  const rows = async <T>(ch: ClickHouse, query: string): Promise<T[]> =>
    (await ch.client.query({ query, format: 'JSONEachRow' })).json<T>();
  const failure = async (p: Promise<unknown>): Promise<{ serverCode?: number; message: string }> => {
    try {
      await p;
    } catch (e) {
      return e as { serverCode?: number; message: string };
    }
    throw new Error('expected ClickHouse to refuse');
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tally-ch-users-'));
    const [http, tcp] = [await freePort(), await freePort()];
    env = {
      ...process.env,
      TALLY_DATA_DIR: dataDir,
      CLICKHOUSE_HTTP_PORT: String(http),
      CLICKHOUSE_TCP_PORT: String(tcp),
      TALLY_CLICKHOUSE_READER_MAX_MEMORY: String(READER_MAX_MEMORY),
      TALLY_CLICKHOUSE_READER_PASSWORD: 'reader-test-password',
      TALLY_CLICKHOUSE_WRITER_PASSWORD: 'writer-test-password',
    };
    url = `http://127.0.0.1:${http}`;
    await infra(['up', 'clickhouse']);
    admin = as('default', '');
    await migrate(admin);
    await admin.client.command({
      query: `INSERT INTO ${database}.datapoints (tenant, dataset, point_id, timestamp, blob1, index1)
              SELECT 'acme', 'calls', toString(number), now(), concat('b', toString(number)), 'i' FROM system.numbers LIMIT 1000000`,
    });
  }, 300_000);

  afterAll(async () => {
    for (const ch of handles) await ch.close().catch(() => undefined);
    if (env) await infra(['down']).catch(() => undefined);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('gives each service its own user with a password, and refuses a wrong one', async () => {
    const writer = as('tally_writer', 'writer-test-password');
    await writer.client.command({ query: `INSERT INTO ${database}.datapoints (tenant, dataset, point_id, timestamp) VALUES ('w', 'calls', 'p1', now())` });
    for (const [user, password] of [['tally_query', 'tally-dev-query'], ['tally_billing', 'tally-dev-billing']]) {
      await expect(as(user, password).ping()).resolves.toBeUndefined();
    }
    // 193 WRONG_PASSWORD: the development password does not work once another one is set.
    expect((await failure(as('tally_writer', 'tally-dev-writer').ping())).serverCode).toBe(193);
    // The users file holds password hashes, never a password.
    const users = await readFile(join(dataDir, 'clickhouse', 'users.xml'), 'utf8');
    expect(users).not.toContain('writer-test-password');
    expect(users).not.toContain('reader-test-password');
  });

  it('lets the reader read and nothing else: INSERT, DROP, ALTER, CREATE and SET readonly are refused (164 READONLY)', async () => {
    const reader = as('tally_reader', 'reader-test-password');
    expect(await rows<{ n: string }>(reader, `SELECT count() AS n FROM ${database}.datapoints WHERE tenant = 'acme'`)).toEqual([{ n: '1000000' }]);
    for (const statement of [
      `INSERT INTO ${database}.datapoints (tenant, dataset, point_id, timestamp) VALUES ('x', 'y', 'z', now())`,
      `DROP TABLE ${database}.datapoints`,
      `ALTER TABLE ${database}.datapoints DELETE WHERE tenant = 'acme'`,
      `CREATE TABLE ${database}.evil (x UInt8) ENGINE = Memory`,
      'SET readonly = 0',
    ]) {
      expect([statement, (await failure(reader.measure('test', () => reader.client.command({ query: statement })))).serverCode]).toEqual([statement, 164]);
    }
    const [{ n }] = await rows<{ n: string }>(admin, `SELECT count() AS n FROM ${database}.datapoints`);
    expect(n).toBe('1000001');
  });

  it("stops a heavy query of the reader at its profile's memory limit, before it uses more", async () => {
    const reader = as('tally_reader', 'reader-test-password');
    // No per-query settings: only the profile limits it (the usage API sends none but its time limit).
    const error = await failure(
      rows(reader, `SELECT blob1, count() AS n FROM ${database}.datapoints GROUP BY blob1`),
    );
    expect(error.message).toMatch(/Memory limit \(for query\) exceeded/);
    // "would use X MiB ..., maximum: Y MiB": the server stopped it at the profile's limit.
    const maximum = Number(/maximum: ([\d.]+) MiB/.exec(error.message)?.[1]) * 1024 * 1024;
    expect(maximum).toBeGreaterThan(0);
    expect(maximum).toBeLessThanOrEqual(READER_MAX_MEMORY);
    // The same query as a service user (profile default, 4 GB) completes.
    const counted = await rows<{ n: string }>(
      as('tally_writer', 'writer-test-password'),
      `SELECT count() AS n FROM (SELECT blob1 FROM ${database}.datapoints WHERE tenant = 'acme' GROUP BY blob1)`,
    );
    expect(counted).toEqual([{ n: '1000000' }]);
  }, 60_000);

  it('runs the SQL API as the reader: answers, and refuses a query beyond its limits', async () => {
    const reader = createClickHouse({ url, username: 'tally_reader', password: 'reader-test-password', database });
    handles.push(reader);
    const api = new SqlApiService({ listDatasets: () => [{ name: 'calls' }] }, new ClickHouseAnalyticsRunner(reader), {
      database,
      readOnlyUser: true,
      limits: { max_memory_usage: READER_MAX_MEMORY },
    });
    const ok = await api.execute({ tenant: 'acme', body: "SELECT count() AS n FROM calls WHERE index1 = 'i'" });
    expect(JSON.parse(ok.body).data).toEqual([{ n: '1000000' }]);
    const refused = (await failure(api.execute({ tenant: 'acme', body: 'SELECT blob1, count() AS n FROM calls GROUP BY blob1' }))) as unknown as TallyError;
    expect([refused.httpStatus, refused.code]).toEqual([400, 'SQL_LIMIT_EXCEEDED']);
    // Without readOnlyUser the query would send readonly=1, which 18.16 refuses from a readonly=2 user.
    const strict = new SqlApiService({ listDatasets: () => [{ name: 'calls' }] }, new ClickHouseAnalyticsRunner(reader), { database });
    const error = (await failure(strict.execute({ tenant: 'acme', body: 'SELECT count() AS n FROM calls' }))) as unknown as TallyError;
    expect(error.message).toMatch(/readonly/);
  }, 60_000);

  it('applies a changed password to the running server on the next up, without a restart (idempotent)', async () => {
    const pid = (await readFile(join(dataDir, 'run', 'clickhouse.pid'), 'utf8')).trim();
    const again = await infra(['up', 'clickhouse']);
    expect(again.stdout).toContain(`already running (ours, pid ${pid})`);
    expect(again.stdout).not.toContain('users written');
    await infra(['up', 'clickhouse'], { TALLY_CLICKHOUSE_READER_PASSWORD: 'rotated-reader-password' });
    const rotated = as('tally_reader', 'rotated-reader-password');
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await rotated.ping();
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect((await readFile(join(dataDir, 'run', 'clickhouse.pid'), 'utf8')).trim()).toBe(pid);
    const { stdout } = await infra(['env'], { TALLY_CLICKHOUSE_READER_PASSWORD: 'rotated-reader-password' });
    expect(stdout).toContain('CLICKHOUSE_READER_USER=tally_reader');
    expect((await infra(['service-env', 'writer'])).stdout).toContain('CLICKHOUSE_USER=tally_writer');
  }, 60_000);
});
