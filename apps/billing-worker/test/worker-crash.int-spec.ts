import { billingWorkflowIds, type BillingRunState } from '@tally/billing-contracts';
import { freePort, randomPrefix, startService, waitFor, type ServiceProcess } from '@tally/testing';
import { BillingHarness, testTimings } from './billing-harness';
import { EXPECTED_TOTALS, OCTOBER, RUN_AT, seedOctober } from './scenario';

describe('billing worker killed mid-run (real process, SIGKILL)', () => {
  const h = new BillingHarness();
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    await h.start();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await h.stop();
  });

  async function startWorker(extra: Record<string, string> = {}, healthyWithinMs = 90_000): Promise<ServiceProcess> {
    const port = await freePort();
    const worker = startService(
      'billing-worker',
      h.workerEnv({ BILLING_WORKER_INTERNAL_PORT: String(port), ...extra }),
    );
    workers.push(worker);
    await waitFor(
      async () => {
        if (worker.child.exitCode !== null || worker.child.signalCode !== null)
          throw new Error(`worker exited:\n${worker.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok;
      },
      { timeoutMs: healthyWithinMs, what: 'billing worker /health' },
    );
    return worker;
  }

  it('still yields exactly one invoice per customer', async () => {
    const tenant = await h.tenant();
    await seedOctober(h, tenant);
    const extra = ['f', 'g', 'h'];
    for (const id of extra) await h.customer({ tenant, id }, { start: '2026-01-01' });
    await h.events(
      tenant,
      extra.map((customer) => ({ customer, type: 'call', at: '2026-10-10T10:00:00Z' })),
    );

    // The first worker dies (SIGKILL) right after its second invoice insert: stored, activity not completed.
    const doomed = await startWorker({ BILLING_WORKER_TEST_CRASH_AFTER_INSERTS: '2' });
    const handle = await h.client.workflow.start('billingRunWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `${billingWorkflowIds.billingRun(tenant)}-${randomPrefix('r')}`,
      args: [
        {
          tenant,
          at: RUN_AT,
          graceSeconds: 0,
          customersPerChild: 1,
          maxConcurrentChildren: 2,
          ...testTimings,
        },
      ],
    });
    expect(await doomed.exited).toBe('SIGKILL');
    const before = await h.rawRowCounts(tenant);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(before).length).toBeLessThan(6);

    await startWorker();
    const state = (await handle.result()) as BillingRunState;
    expect(state.counts.issued + state.counts.already_issued).toBe(6);
    expect(state.counts.failed).toBe(0);
    // The invoice stored just before the kill was found in the ledger by the retried activity, not written again.
    expect(state.counts.already_issued).toBeGreaterThanOrEqual(1);

    for (const customer of ['a', 'b', 'c', ...extra]) {
      const docs = await h.documents(tenant, customer);
      expect(docs.map((d) => [d.kind, d.version, d.period])).toEqual([['invoice', 1, OCTOBER]]);
      // 10 flat + (1 call, free) for the extra customers.
      expect(docs[0].totalMinor).toBe(EXPECTED_TOTALS[customer] ?? '1000');
    }
    expect(await h.documents(tenant, 'd')).toEqual([]);
  });

  it('two workers on one task queue, one SIGKILLed mid-run: exactly one invoice per customer and period', async () => {
    const tenant = await h.tenant();
    await seedOctober(h, tenant);
    const extra = Array.from({ length: 24 }, (_, i) => `x${String(i).padStart(2, '0')}`);
    for (const id of extra) await h.customer({ tenant, id }, { start: '2026-01-01' });
    await h.events(
      tenant,
      extra.map((customer) => ({ customer, type: 'call', at: '2026-10-10T10:00:00Z' })),
    );
    const billed = ['a', 'b', 'c', ...extra];

    // Both poll the same task queue; A dies (SIGKILL) right after its third invoice insert, stored but
    // its activity not completed, while B is busy with other customers of the same run.
    // One after the other: each bundles the workflows at start, slow on a busy machine.
    const doomed = await startWorker({ BILLING_WORKER_TEST_CRASH_AFTER_INSERTS: '3', BILLING_WORKER_TEST_LOG_INSERTS: '1' }, 240_000);
    const survivor = await startWorker({ BILLING_WORKER_TEST_LOG_INSERTS: '1' }, 240_000);
    const handle = await h.client.workflow.start('billingRunWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `${billingWorkflowIds.billingRun(tenant)}-${randomPrefix('r')}`,
      args: [{ tenant, at: RUN_AT, graceSeconds: 0, customersPerChild: 2, maxConcurrentChildren: 4, ...testTimings }],
    });
    expect(await doomed.exited).toBe('SIGKILL');
    const inserts = (worker: ServiceProcess) => worker.output().split('\n').filter((l) => l.startsWith('test: invoice insert')).length;
    const atKill = { doomed: inserts(doomed), survivor: inserts(survivor), stored: Object.keys(await h.rawRowCounts(tenant)).length };
    console.log(`two workers: at the kill A had stored ${atKill.doomed} batches, B ${atKill.survivor}; ${atKill.stored} of ${billed.length} invoices in the ledger`);
    expect(atKill.doomed).toBe(3);
    expect(atKill.stored).toBeLessThan(billed.length);

    const state = (await handle.result()) as BillingRunState;
    expect(state.counts.issued + state.counts.already_issued).toBe(billed.length);
    expect(state.counts.failed).toBe(0);
    // B did work of the run besides taking over A's: both really shared the queue.
    expect(inserts(survivor)).toBeGreaterThan(0);
    const raw = await h.rawRowCounts(tenant);
    // Every invoice written once: A's last insert was found by B's retry, not written again.
    expect(Object.values(raw).every((n) => n === 1)).toBe(true);
    expect(Object.keys(raw)).toHaveLength(billed.length);
    for (const customer of billed) {
      const docs = await h.documents(tenant, customer);
      expect(docs.map((d) => [d.kind, d.version, d.period])).toEqual([['invoice', 1, OCTOBER]]);
      expect(docs[0].totalMinor).toBe(EXPECTED_TOTALS[customer] ?? '1000');
    }
    console.log(
      `two workers: ${state.counts.issued} issued, ${state.counts.already_issued} already issued; ${Object.keys(raw).length} invoices, each stored once`,
    );
  }, 600_000);
});
