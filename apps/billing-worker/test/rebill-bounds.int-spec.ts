import { jetstream } from '@nats-io/jetstream';
import { billingWorkflowIds, type RebillState } from '@tally/billing-contracts';
import { encodeLateEventNotice } from '@tally/nats';
import { waitFor } from '@tally/testing';
import { BillingHarness, testTimings } from './billing-harness';

const OCTOBER = '2026-10';
const MAX_HISTORY = 200;

/**
 * A flood of late-event notices for one closed period: the rebill's history stays bounded (it
 * continues as new, also in the middle of a wave), a wave that never goes quiet is billed when it
 * reaches its cap, and each wave issues at most one adjustment.
 */
describe('10,000 late-event notices for one closed period (real NATS, worker, Temporal)', () => {
  const h = new BillingHarness();
  let tenant: string;

  beforeAll(async () => {
    await h.start();
    // 50 notices per pull (production takes 500): some 200 signals, so that the history bound is what
    // is tested, not only the coalescing.
    await h.startWorker({ quietSeconds: 2, maxWaveSeconds: 4, maxHistoryEvents: MAX_HISTORY, ...testTimings }, 50);
    tenant = await h.tenant();
    await h.customer({ tenant, id: 'a' }, { start: '2026-01-01' });
  });
  afterAll(async () => {
    await h.client.workflow.getHandle(billingWorkflowIds.rebill(tenant, 'a', OCTOBER)).terminate('test done').catch(() => undefined);
    await h.stop();
  });

  async function flood(notices: number, seconds: number): Promise<void> {
    const js = jetstream(h.nc);
    const chunk = Math.ceil(notices / (seconds * 4));
    for (let sent = 0; sent < notices; sent += chunk) {
      const started = Date.now();
      await Promise.all(
        Array.from({ length: Math.min(chunk, notices - sent) }, (_, i) =>
          js.publish(
            h.names.lateEventsSubject(tenant),
            encodeLateEventNotice({ tenant, customer: 'a', period: OCTOBER, count: 1, sampleEventId: `n-${sent + i}` }),
          ),
        ),
      );
      await new Promise((r) => setTimeout(r, Math.max(0, 250 - (Date.now() - started))));
    }
  }

  it('keeps every run of the rebill under the history bound, with at most one adjustment per wave', async () => {
    await h.events(tenant, [1, 2, 3].map((d) => ({ customer: 'a', type: 'call', at: `2026-10-0${d}T12:00:00Z` })));
    const invoice = await h.client.workflow.execute('customerInvoiceWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: billingWorkflowIds.customerInvoice(tenant, 'a', OCTOBER),
      args: [{ tenant, customer: 'a', period: OCTOBER, graceSeconds: 0, ...testTimings }],
    });
    expect(invoice).toMatchObject({ status: 'issued', totalMinor: '1005' });

    // Two bursts of late events, each followed by 5,000 notices over 6 s: never quiet for 2 s, so
    // waves end at their 4 s cap.
    await h.events(tenant, [1, 2, 3, 4].map((d) => ({ customer: 'a', type: 'call', at: `2026-10-1${d}T12:00:00Z` })));
    await flood(5_000, 6);
    await h.events(tenant, [1, 2].map((d) => ({ customer: 'a', type: 'call', at: `2026-10-2${d}T12:00:00Z` })));
    await flood(5_000, 6);

    const handle = h.client.workflow.getHandle(billingWorkflowIds.rebill(tenant, 'a', OCTOBER));
    const state = await waitFor(
      async () => {
        const s = (await handle.query('progress')) as RebillState;
        return s.signalled === 10_000 && s.pending === 0 && s.waveStartedAt === undefined && s;
      },
      { timeoutMs: 120_000, what: 'every notice to be signalled and billed' },
    );
    const docs = await h.documents(tenant, 'a', OCTOBER);
    const adjustments = docs.filter((d) => d.kind === 'adjustment');
    // At most one adjustment per wave, and every late call billed once: 6 × $0.05 over the invoice.
    expect(adjustments.length).toBe(state.adjustments);
    expect(state.adjustments).toBeLessThanOrEqual(state.waves);
    expect(state.waves).toBeGreaterThanOrEqual(2);
    expect(docs.at(-1)?.cumulativeTotalMinor).toBe('1035');
    expect(adjustments.reduce((n, d) => n + d.lateEventCount, 0)).toBe(6);

    const lengths: number[] = [];
    for await (const run of h.client.workflow.list({ query: `WorkflowId = '${billingWorkflowIds.rebill(tenant, 'a', OCTOBER)}'` })) {
      const history = await h.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      lengths.push(history.events?.length ?? 0);
    }
    process.stdout.write(`rebill runs: ${lengths.length}, history lengths: ${lengths.join(', ')}; waves ${state.waves}, adjustments ${state.adjustments}\n`);
    expect(lengths.length).toBeGreaterThan(1);
    // The bound: maxHistoryEvents, plus the signals (and retried workflow tasks) that arrive while a
    // continue-as-new is being committed: stated as twice maxHistoryEvents (docs/billing.md).
    expect(Math.max(...lengths)).toBeLessThanOrEqual(2 * MAX_HISTORY);
  });
});
