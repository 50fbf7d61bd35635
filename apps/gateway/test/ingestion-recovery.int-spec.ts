import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:net';
import { freePort, TcpProxy, testClickHouseUrl, testNatsServerBin, waitFor } from '@tally/testing';
import { IngestionHarness } from './ingestion-harness';

const batch = (prefix: string, n: number, customer: string) => ({
  events: Array.from({ length: n }, (_, i) => ({
    eventId: `${prefix}-${i}`,
    customerId: customer,
    metricName: 'calls',
    quantity: `${i}.25`,
  })),
});
// Σ (i + 0.25) for i < n
const expectedSum = (n: number) => `${(n * (n - 1)) / 2 + n / 4}`;

describe('ingestion survives crashes and outages without losing or double-counting', () => {
  it('a writer SIGKILLed between insert and ack, then restarted, leaves totals exact', async () => {
    const h = await new IngestionHarness({ startWriter: false }).start();
    try {
      const { ingestKey } = await h.tenant('crashco');
      expect((await h.post(batch('k', 200, 'c1'), ingestKey)).status).toBe(202);
      expect((await h.post(batch('l', 100, 'c2'), ingestKey)).status).toBe(202);

      const doomed = await h.startWriter({ WRITER_TEST_CRASH_AFTER_INSERT: 'true', WRITER_ACK_WAIT_MS: '2000' });
      expect(await doomed.exited).toBe('SIGKILL');
      // The insert happened, the ack did not.
      expect(Number((await h.total('crashco')).events)).toBeGreaterThan(0);

      await h.startWriter({ WRITER_ACK_WAIT_MS: '2000' });
      await h.waitForDrained();
      expect(await h.total('crashco')).toEqual({ events: '300', quantity: `${Number(expectedSum(200)) + Number(expectedSum(100))}` });
    } finally {
      await h.stop();
    }
  });

  it('ClickHouse unreachable for a while: events wait in JetStream, then all arrive once', async () => {
    const proxy = await TcpProxy.start(await freePort(), new URL(testClickHouseUrl()));
    const h = await new IngestionHarness({ writerClickhouseUrl: proxy.url }).start();
    try {
      const { ingestKey } = await h.tenant('outageco');
      await proxy.pause();
      for (let i = 0; i < 5; i++) expect((await h.post(batch(`o${i}`, 100, `c${i}`), ingestKey)).status).toBe(202);
      await new Promise((r) => setTimeout(r, 3_000));
      expect((await h.total('outageco')).events).toBe('0');

      await proxy.resume();
      await h.waitForEvents('outageco', 500, 60_000);
      await h.waitForDrained();
      expect(await h.total('outageco')).toEqual({ events: '500', quantity: `${5 * Number(expectedSum(100))}` });
    } finally {
      await h.stop();
      await proxy.stop();
    }
  });

  it('answers 503 with Retry-After, never 202, while JetStream is unreachable', async () => {
    const port = await freePort();
    const store = mkdtempSync(path.join(tmpdir(), 'tally-nats-'));
    const startNats = () =>
      spawn(testNatsServerBin(), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: 'ignore' });
    let nats = startNats();
    const h = new IngestionHarness({ natsUrl: `nats://127.0.0.1:${port}`, startWriter: false, gatewayEnv: { GATEWAY_PUBLISH_TIMEOUT_MS: '1000' } });
    try {
      await waitFor(() => canConnect(port), { what: 'own nats-server' });
      await h.start();
      const { ingestKey } = await h.tenant('downco');
      expect((await h.post(batch('before', 1, 'c'), ingestKey)).status).toBe(202);

      nats.kill('SIGKILL');
      await new Promise((r) => nats.once('exit', r));
      const during = await h.post(batch('during', 1, 'c'), ingestKey);
      expect(during.status).toBe(503);
      expect(during.body.error.code).toBe('STREAM_UNAVAILABLE');
      expect(Number(during.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

      nats = startNats();
      await waitFor(async () => (await h.post(batch('after', 1, 'c'), ingestKey)).status === 202, { timeoutMs: 30_000, what: 'recovery' });
    } finally {
      await h.stop().catch(() => undefined);
      nats.kill('SIGKILL');
      rmSync(store, { recursive: true, force: true });
    }
  });
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
