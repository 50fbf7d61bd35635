import type { InvoiceDocument } from '@tally/billing';
import { billingWorkflowIds, type BillingRunState } from '@tally/billing-contracts';
import { SubscriptionLifecycleService } from '@tally/catalog';
import { freePort, randomPrefix, startService, waitFor, type ServiceProcess } from '@tally/testing';
import { BillingHarness, testTimings } from './billing-harness';

/**
 * Finance terms end to end on Temporal (real Temporal, NATS and ClickHouse): customer `f1` changes plan
 * on 11 October (starter → pro, through the subscription lifecycle service the API runs), has a $15.00 prepaid grant, a 20 % coupon for 3 periods and New
 * York's 4 % tax. Two monthly billing runs give exactly one invoice per period, with these amounts
 * (docs/finance.md):
 *
 * October (31 days): starter fee 3100 × 10/31 = 1000; starter calls 10 × $0.01 = 10; pro fee
 *   1000 × 21/31 = 677.4 → 677; pro calls (6 − 2 free) × $0.05 = 20; tokens and storage 0. Subtotal 1707.
 *   Coupon 20 % per line: 200 + 2 + 135 (135.4) + 4 = 341; left 1366. Credit: the grant (1500) pays all
 *   1366. Taxable 0, tax 0. **Total 0.**
 * November: pro fee 1000, calls (4 − 2) × 0.05 = 10. Coupon 200 + 2 = 202; left 808. Credit: the 134 left
 *   of the grant, spread 800:8 → 132.67 + 1.33 → 133 + 1. Taxable 667 + 7; 4 %: 26.68 → 27, 0.28 → 0.
 *   **Total 1010 − 202 − 134 + 27 = 701.**
 */
const OCTOBER_RUN = '2026-11-01T06:00:00.000Z';
const NOVEMBER_RUN = '2026-12-01T06:00:00.000Z';

async function seedFinance(h: BillingHarness, tenant: string): Promise<void> {
  const current = await h.store.getTenant(tenant);
  if (!current) throw new Error('tenant missing');
  await h.store.putTenant({
    ...current.value,
    taxRates: [{ id: 'ny', name: 'NY sales tax 4 %', jurisdiction: 'US-NY', percent: '4', inclusive: false }],
    coupons: [
      {
        id: 'launch',
        name: 'Launch 20 %',
        kind: 'percentage',
        percent: '20',
        duration: 'repeating',
        periods: 3,
      },
    ],
  });
  await h.store.putPlan({
    tenant,
    id: 'starter',
    name: 'Starter',
    currency: 'USD',
    charges: [
      { id: 'base', name: 'Starter fee', kind: 'flat', amount: '31' },
      { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.01' },
    ],
  });
  await h.customer({
    tenant,
    id: 'f1',
    billing: {
      tax: { jurisdiction: 'US-NY' },
      coupons: [{ coupon: 'launch', firstPeriod: '2026-10' }],
      credits: [{ type: 'grant', id: 'g1', currency: 'USD', amountMinor: '1500', effective: '2026-10-01' }],
    },
  });
  // The lifecycle the API's POST /v1/subscriptions and POST /v1/subscriptions/:id/change-plan run: on
  // starter from 1 September, changed to pro on 11 October (recorded on 5 October, so effective later).
  const lifecycle = new SubscriptionLifecycleService(h.store, () => Date.parse('2026-10-05T12:00:00.000Z'));
  await lifecycle.create(tenant, { id: 'f1-starter', customer: 'f1', plan: 'starter', start: '2026-09-01' });
  const change = await lifecycle.changePlan(tenant, 'f1-starter', {
    plan: 'pro',
    effective: '2026-10-11',
    newSubscriptionId: 'f1-pro',
  });
  expect(change.subscriptions.map((s) => [s.id, s.plan, s.start, s.end, s.billingAnchorDay])).toEqual([
    ['f1-starter', 'starter', '2026-09-01', '2026-10-11', undefined],
    ['f1-pro', 'pro', '2026-10-11', undefined, 1],
  ]);
  await waitFor(async () => h.subscriptions.subscriptionsOf(tenant, 'f1').length === 2, {
    what: 'both subscriptions in the caches',
  });
  await h.events(tenant, [
    ...Array.from({ length: 10 }, () => ({ customer: 'f1', type: 'call', at: '2026-10-05T10:00:00Z' })),
    ...Array.from({ length: 6 }, () => ({ customer: 'f1', type: 'call', at: '2026-10-20T10:00:00Z' })),
    ...Array.from({ length: 4 }, () => ({ customer: 'f1', type: 'call', at: '2026-11-10T10:00:00Z' })),
  ]);
}

function expectFinance(docs: InvoiceDocument[]): void {
  expect(docs.map((d) => [d.kind, d.version, d.period, d.totalMinor])).toEqual([
    ['invoice', 1, '2026-10', '0'],
    ['invoice', 1, '2026-11', '701'],
  ]);
  const [oct, nov] = docs;
  expect(oct.effectiveLines.map((l) => [l.subscription, l.chargeId, l.amountMinor])).toEqual([
    ['f1-pro', 'base', '677'],
    ['f1-pro', 'calls', '20'],
    ['f1-pro', 'tokens', '0'],
    ['f1-pro', 'storage', '0'],
    ['f1-starter', 'base', '1000'],
    ['f1-starter', 'calls', '10'],
  ]);
  expect([
    oct.finance?.subtotalMinor,
    oct.finance?.discountMinor,
    oct.finance?.creditMinor,
    oct.finance?.taxExclusiveMinor,
  ]).toEqual(['1707', '341', '1366', '0']);
  expect(oct.finance?.credits.map((c) => [c.bucketId, c.date, c.amountMinor])).toEqual([
    ['g1', '2026-10-01', '1366'],
  ]);
  expect([nov.finance?.discountMinor, nov.finance?.creditMinor, nov.finance?.taxExclusiveMinor]).toEqual([
    '202',
    '134',
    '27',
  ]);
  expect(nov.finance?.credits.map((c) => [c.bucketId, c.date, c.amountMinor])).toEqual([
    ['g1', '2026-11-01', '134'],
  ]);
  expect(
    nov.finance?.lines
      .filter((l) => l.creditMinor !== '0')
      .map((l) => [l.lineId, l.creditMinor, l.taxes[0]?.amountMinor]),
  ).toEqual([
    ['f1-pro/base', '133', '27'],
    ['f1-pro/calls', '1', '0'],
  ]);
  expect(nov.pricing.finance?.coupons.map((c) => c.periodIndex)).toEqual([1]);
}

describe('finance terms on Temporal: plan change + grant + coupon + tax (real Temporal, NATS and ClickHouse)', () => {
  const h = new BillingHarness();
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    await h.start();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await h.stopWorker().catch(() => undefined);
    await h.stop();
  });

  const run = (tenant: string, at: string) => h.runBilling(tenant, at);

  it('gives exactly one invoice per period with the expected lines, discounts, draws and taxes', async () => {
    await h.startWorker();
    const tenant = await h.tenant();
    await seedFinance(h, tenant);
    expect((await run(tenant, OCTOBER_RUN)).counts.issued).toBe(1);
    expect((await run(tenant, NOVEMBER_RUN)).counts.issued).toBe(1);
    // Runs again at the same times: nothing more.
    expect((await run(tenant, OCTOBER_RUN)).due).toBe(0);
    expect((await run(tenant, NOVEMBER_RUN)).due).toBe(0);
    expectFinance(await h.documents(tenant, 'f1'));
    await h.stopWorker();
  });

  it('a worker killed (SIGKILL) right after writing the October invoice changes nothing', async () => {
    const tenant = await h.tenant();
    await seedFinance(h, tenant);
    const startWorker = async (extra: Record<string, string> = {}) => {
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
        { timeoutMs: 90_000, what: 'billing worker /health' },
      );
      return worker;
    };
    // Dies right after its first ledger insert: the invoice is stored, the activity never completes.
    const doomed = await startWorker({ BILLING_WORKER_TEST_CRASH_AFTER_INSERTS: '1' });
    const october = h.client.workflow.execute('billingRunWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `${billingWorkflowIds.billingRun(tenant)}-${randomPrefix('r')}`,
      args: [{ tenant, at: OCTOBER_RUN, graceSeconds: 0, ...testTimings }],
    });
    expect(await doomed.exited).toBe('SIGKILL');
    await startWorker();
    const state = (await october) as BillingRunState;
    expect(state.counts.issued + state.counts.already_issued).toBe(1);
    expect((await run(tenant, NOVEMBER_RUN)).counts.issued).toBe(1);
    // The same two invoices, the same draws: the retried activity found October's invoice, drew nothing twice.
    expectFinance(await h.documents(tenant, 'f1'));
    expect(Object.values(await h.rawRowCounts(tenant))).toEqual([1, 1]);
  });
});
