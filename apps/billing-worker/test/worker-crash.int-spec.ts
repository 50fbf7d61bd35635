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

  async function startWorker(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const worker = startService(
      'billing-worker',
      h.workerEnv({ BILLING_WORKER_PORT: String(port), ...extra }),
    );
    workers.push(worker);
    await waitFor(
      async () => {
        if (worker.child.exitCode !== null || worker.child.signalCode !== null)
          throw new Error(`worker exited:\n${worker.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok;
      },
      { timeoutMs: 90_000, what: 'billing worker /health' },
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
});
