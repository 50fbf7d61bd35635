import { freePort, startService, waitFor, type ServiceProcess } from '@tally/testing';
import { IngestionHarness } from './ingestion-harness';

const events = (prefix: string, n: number) => ({
  events: Array.from({ length: n }, (_, i) => ({
    eventId: `${prefix}-${i}`,
    customerId: 'c1',
    metricName: 'calls',
    quantity: '1',
  })),
});

interface Completeness {
  completeThrough: string;
  upToDate: boolean;
  lagMs: number;
  checkedAt: string;
}

/**
 * The completeness watermark end to end: gateway, writer and query service as real processes on real
 * NATS and ClickHouse. While the writer is not storing, the watermark stays before the events'
 * acknowledgement; once it passes, every acknowledged event is in ClickHouse.
 */
describe('GET /v1/usage/completeness (gateway → JetStream → writer → ClickHouse → query)', () => {
  let h: IngestionHarness;
  let query: ServiceProcess;
  let queryUrl: string;

  beforeAll(async () => {
    h = await new IngestionHarness({ startWriter: false }).start();
    const port = await freePort();
    queryUrl = `http://127.0.0.1:${port}`;
    query = startService('query', {
      NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4322',
      TALLY_NATS_PREFIX: h.names.prefix,
      CLICKHOUSE_DATABASE: h.db.database,
      QUERY_PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    await waitFor(async () => (await fetch(`${queryUrl}/health`).catch(() => undefined))?.ok, {
      timeoutMs: 60_000,
      what: 'query /health',
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${query.output()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await query?.stop();
    await h?.stop();
  });

  async function completeness(key: string): Promise<Completeness> {
    const response = await fetch(`${queryUrl}/v1/usage/completeness`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as Completeness;
  }

  async function queryKeyWorks(key: string): Promise<void> {
    await waitFor(
      async () =>
        (await fetch(`${queryUrl}/v1/usage/completeness`, { headers: { authorization: `Bearer ${key}` } })).status !== 401,
      { what: 'query key to reach the query service' },
    );
  }

  it('stays behind while the writer does not store, passes the events once it caught up; per tenant', async () => {
    const wm = await h.tenant('wmco');
    const other = await h.tenant('otherco');
    await queryKeyWorks(wm.queryKey);
    await queryKeyWorks(other.queryKey);

    // Nothing sent yet: up to date.
    const idle = await completeness(wm.queryKey);
    expect(idle.upToDate).toBe(true);
    expect(Date.parse(idle.completeThrough)).toBe(Date.parse(idle.checkedAt));

    // 1. No writer at all (no consumer yet): acknowledged events are not stored, the watermark says so.
    const sent = Date.now();
    for (let i = 0; i < 3; i++) expect((await h.post(events(`a${i}`, 50), wm.ingestKey)).status).toBe(202);
    const acknowledged = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    const behind = await completeness(wm.queryKey);
    expect(behind.upToDate).toBe(false);
    expect(Date.parse(behind.completeThrough)).toBeGreaterThanOrEqual(sent - 5);
    expect(Date.parse(behind.completeThrough)).toBeLessThanOrEqual(acknowledged);
    expect(behind.lagMs).toBeGreaterThanOrEqual(300);
    // Another tenant's backlog does not hold this one back.
    const otherState = await completeness(other.queryKey);
    expect(otherState.upToDate).toBe(true);
    expect((await h.total('wmco')).events).toBe('0');

    // The writer starts: once the watermark passes the acknowledgements, every event is stored.
    await h.startWriter();
    await waitFor(async () => Date.parse((await completeness(wm.queryKey)).completeThrough) > acknowledged, {
      timeoutMs: 60_000,
      what: 'the watermark to pass the acknowledged events',
    });
    expect((await h.total('wmco')).events).toBe('150');

    // 2. The writer paused (SIGSTOP) with its consumer in place: behind again, then caught up.
    const writer = h.writer as ServiceProcess;
    writer.child.kill('SIGSTOP');
    try {
      for (let i = 0; i < 2; i++) expect((await h.post(events(`b${i}`, 50), wm.ingestKey)).status).toBe(202);
      const acknowledgedAgain = Date.now();
      await new Promise((r) => setTimeout(r, 500));
      const paused = await completeness(wm.queryKey);
      expect(paused.upToDate).toBe(false);
      expect(Date.parse(paused.completeThrough)).toBeLessThanOrEqual(acknowledgedAgain);
      expect((await h.total('wmco')).events).toBe('150');

      writer.child.kill('SIGCONT');
      await waitFor(async () => Date.parse((await completeness(wm.queryKey)).completeThrough) > acknowledgedAgain, {
        timeoutMs: 60_000,
        what: 'the watermark to pass the events sent while paused',
      });
      expect((await h.total('wmco')).events).toBe('250');
      expect((await completeness(wm.queryKey)).upToDate).toBe(true);
    } finally {
      writer.child.kill('SIGCONT');
    }
  }, 180_000);

  it('answers 422 to unknown parameters and 401 without a key', async () => {
    const { queryKey } = await h.tenant('paramco');
    await queryKeyWorks(queryKey);
    const bad = await fetch(`${queryUrl}/v1/usage/completeness?tenant=x`, { headers: { authorization: `Bearer ${queryKey}` } });
    expect(bad.status).toBe(422);
    expect((await fetch(`${queryUrl}/v1/usage/completeness`)).status).toBe(401);
  });
});
