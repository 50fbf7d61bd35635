import { jetstreamManager } from '@nats-io/jetstream';
import { billingWorkflowIds } from '@tally/billing-contracts';
import { freePort, startService, waitFor, type ServiceProcess } from '@tally/testing';
import { IngestionHarness } from '../../gateway/test/ingestion-harness';
import { BillingHarness, testTimings } from './billing-harness';
import { TemporalDevServer } from './temporal-dev-server';

const OCTOBER = '2026-10';

/**
 * Late events are durable from the moment the writer acks them: its notice is in the late-events
 * stream first. Here the writer is SIGKILLed right after acking a batch of late events while Temporal
 * is down (a Temporal server of this test's own), then both come back: the rebill happens, once.
 */
describe('late events survive a writer crash while Temporal is down (real processes)', () => {
  let temporal: TemporalDevServer;
  const billing = new BillingHarness();
  const ingestion = new IngestionHarness({ writerEnv: { WRITER_FLUSH_INTERVAL_MS: '100' } });
  let worker: ServiceProcess | undefined;
  const tenant = `durable-${Date.now().toString(36)}`;
  let key: string;

  beforeAll(async () => {
    temporal = await TemporalDevServer.start();
    await ingestion.start();
    await billing.start({ names: ingestion.names, db: ingestion.db }, temporal.address);
    ({ ingestKey: key } = await ingestion.tenant(tenant, { latenessLimitDays: 3650 }));
    await billing.tenant({ id: tenant });
    await billing.customer({ tenant, id: 'a' }, { start: '2026-01-01' });
    const port = await freePort();
    worker = startService(
      'billing-worker',
      billing.workerEnv({ BILLING_WORKER_INTERNAL_PORT: String(port), BILLING_REBILL_QUIET_SECONDS: '2' }),
    );
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok, {
      timeoutMs: 90_000,
      what: 'billing worker /health',
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await billing.stop();
    await ingestion.stop();
    await temporal?.stop();
  });

  async function send(ids: string[], at: string): Promise<void> {
    const response = await ingestion.post(
      { events: ids.map((id) => ({ eventId: id, timestamp: Date.parse(at), customerId: 'a', metricName: 'call' })) },
      key,
    );
    expect(response.status).toBe(202);
  }

  it('bills the late events exactly once', async () => {
    await send(['on-time-1', 'on-time-2', 'on-time-3'], '2026-10-05T12:00:00Z');
    await ingestion.waitForEvents(tenant, 3);
    const invoice = await billing.client.workflow.execute('customerInvoiceWorkflow', {
      taskQueue: billing.taskQueue,
      workflowId: billingWorkflowIds.customerInvoice(tenant, 'a', OCTOBER),
      args: [{ tenant, customer: 'a', period: OCTOBER, graceSeconds: 0, ...testTimings }],
    });
    // $10 + (3 − 2 free) × $0.05.
    expect(invoice).toMatchObject({ status: 'issued', totalMinor: '1005' });

    await temporal.pause();
    await send(['late-1', 'late-2', 'late-3', 'late-4'], '2026-10-20T12:00:00Z');
    await ingestion.waitForEvents(tenant, 7);
    // The writer acked the batch: its notice must be in the stream by then (published before the ack).
    await ingestion.waitForDrained();
    const jsm = await jetstreamManager(ingestion.nc);
    expect((await jsm.streams.info(ingestion.names.lateEventsStream)).state.messages).toBe(1);
    expect(await ingestion.writer?.stop('SIGKILL')).toBe('SIGKILL');

    // The billing worker cannot signal: the notice stays in the stream.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await jsm.streams.info(ingestion.names.lateEventsStream)).state.messages).toBe(1);

    await temporal.resume();
    await ingestion.startWriter();
    const adjustment = await waitFor(
      async () => (await billing.documents(tenant, 'a', OCTOBER)).find((d) => d.version === 2),
      { timeoutMs: 90_000, what: 'the adjustment' },
    );
    expect(adjustment).toMatchObject({ kind: 'adjustment', totalMinor: '20', lateEventCount: 4 });
    await waitFor(async () => (await jsm.streams.info(ingestion.names.lateEventsStream)).state.messages === 0, {
      what: 'the notice to be acked',
    });
    // Let a second wave happen if one were coming (quiet window 2 s).
    await new Promise((r) => setTimeout(r, 6_000));
    expect((await billing.documents(tenant, 'a', OCTOBER)).map((d) => [d.version, d.kind, d.totalMinor])).toEqual([
      [1, 'invoice', '1005'],
      [2, 'adjustment', '20'],
    ]);
    expect(Object.values(await billing.rawRowCounts(tenant))).toEqual([1, 1]);
  });
});
