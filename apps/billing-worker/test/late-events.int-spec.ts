import type { AdjustmentLine, InvoiceDocument } from '@tally/billing';
import { billingWorkflowIds, LATE_EVENTS_SIGNAL, PROGRESS_QUERY } from '@tally/billing-contracts';
import { waitFor } from '@tally/testing';
import { IngestionHarness } from '../../gateway/test/ingestion-harness';
import { BillingHarness, testTimings } from './billing-harness';

const OCTOBER = '2026-10';

describe('late events after close (real gateway, writer, worker, Temporal)', () => {
  const billing = new BillingHarness();
  const ingestion = new IngestionHarness({
    writerEnv: { WRITER_FLUSH_INTERVAL_MS: '100' },
  });
  let key: string;
  const tenant = `late-${Date.now().toString(36)}`;

  beforeAll(async () => {
    await ingestion.start();
    await billing.start({ names: ingestion.names, db: ingestion.db });
    await billing.startWorker();
    ({ ingestKey: key } = await ingestion.tenant(tenant, { latenessLimitDays: 3650 }));
    await billing.tenant({ id: tenant });
    await billing.customer({ tenant, id: 'a' }, { start: '2026-01-01' });
  });
  afterAll(async () => {
    await billing.client.workflow
      .getHandle(billingWorkflowIds.rebill(tenant, 'a', OCTOBER))
      .terminate('test done')
      .catch(() => undefined);
    await billing.stop();
    await ingestion.stop();
  });

  let sent = 0;
  async function send(
    events: Array<{ id: string; type: string; at: string; tokens?: number }>,
  ): Promise<void> {
    const response = await ingestion.post(
      {
        events: events.map((e) => ({
          eventId: e.id,
          timestamp: Date.parse(e.at),
          customerId: 'a',
          metricName: e.type,
          ...(e.tokens !== undefined ? { dimensions: { tokens: e.tokens } } : {}),
        })),
      },
      key,
    );
    expect(response.status).toBe(202);
    sent += events.length;
    await ingestion.waitForEvents(tenant, sent);
  }

  const documents = () => billing.documents(tenant, 'a', OCTOBER);
  const waitForVersion = (version: number) =>
    waitFor(async () => (await documents()).find((d) => d.version === version), {
      timeoutMs: 30_000,
      what: `document v${version}`,
    });
  const lines = (d: InvoiceDocument) =>
    (d.lines as AdjustmentLine[]).map((l) => [l.chargeId, l.quantityBefore, l.quantityAfter, l.amountMinor]);

  it('issues one adjustment per wave, with the right amounts, and none for a replayed signal', async () => {
    await send(
      ['2026-10-03', '2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07'].map((d, i) => ({
        id: `on-time-${i}`,
        type: 'call',
        at: `${d}T12:00:00Z`,
      })),
    );
    const invoice = await billing.client.workflow.execute('customerInvoiceWorkflow', {
      taskQueue: billing.taskQueue,
      workflowId: billingWorkflowIds.customerInvoice(tenant, 'a', OCTOBER),
      args: [{ tenant, customer: 'a', period: OCTOBER, graceSeconds: 0, ...testTimings }],
    });
    // $10 + (5 − 2 free) × $0.05.
    expect(invoice).toMatchObject({ status: 'issued', totalMinor: '1015' });

    // Wave 1: two late calls → calls 5 → 7, +$0.10.
    await send([
      { id: 'late-1', type: 'call', at: '2026-10-20T12:00:00Z' },
      { id: 'late-2', type: 'call', at: '2026-10-31T23:00:00Z' },
    ]);
    const v2 = await waitForVersion(2);
    expect(v2).toMatchObject({
      kind: 'adjustment',
      totalMinor: '10',
      cumulativeTotalMinor: '1025',
      lateEventCount: 2,
      referencesInvoiceId: invoice.invoiceId,
    });
    expect(lines(v2)).toEqual([['calls', '5', '7', '10']]);

    // An event of November is not late: no wave for it.
    await send([{ id: 'november-1', type: 'call', at: '2026-11-02T12:00:00Z' }]);

    // Wave 2: three late completions of 400 tokens → 1.00 + 200 × 0.0005 = $1.10.
    await send(
      [1, 2, 3].map((i) => ({
        id: `late-tokens-${i}`,
        type: 'completion',
        at: `2026-10-1${i}T08:00:00Z`,
        tokens: 400,
      })),
    );
    const v3 = await waitForVersion(3);
    expect(v3).toMatchObject({
      kind: 'adjustment',
      totalMinor: '110',
      cumulativeTotalMinor: '1135',
      lateEventCount: 3,
    });
    expect(lines(v3)).toEqual([['tokens', '0', '1200', '110']]);

    // The writer (or anyone) repeating a signal for events already billed changes nothing.
    const rebill = billing.client.workflow.getHandle(billingWorkflowIds.rebill(tenant, 'a', OCTOBER));
    await rebill.signal(LATE_EVENTS_SIGNAL, ['late-tokens-1', 'late-tokens-2', 'late-tokens-3']);
    await waitFor(async () => ((await rebill.query(PROGRESS_QUERY)) as { waves: number }).waves >= 3, {
      timeoutMs: 30_000,
      what: 'the repeated signal to be processed',
    });
    expect(await rebill.query(PROGRESS_QUERY)).toMatchObject({ waves: 3, adjustments: 2 });
    await billing.recordHistory(billingWorkflowIds.rebill(tenant, 'a', OCTOBER), 'rebill');
    expect((await documents()).map((d) => [d.version, d.kind, d.totalMinor])).toEqual([
      [1, 'invoice', '1015'],
      [2, 'adjustment', '10'],
      [3, 'adjustment', '110'],
    ]);
  });
});
