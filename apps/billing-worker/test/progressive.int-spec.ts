import { openCustomerPeriod } from '@tally/billing-periods';
import {
  BILLING_WORKFLOWS,
  billingWorkflowIds,
  PROGRESS_QUERY,
  THRESHOLD_CROSSED_SIGNAL,
  type ProgressiveBillingState,
} from '@tally/billing-contracts';
import type { Subscription } from '@nats-io/transport-node';
import { AlertDispatcher, AlertStateStore } from '@tally/alerts';
import {
  ProgressiveMonitor,
  type BillingThresholdAlert,
  TemporalInterimTrigger,
  TemporalRebillTrigger,
  type InvoiceDocument,
  type InvoiceLine,
} from '@tally/billing';
import { waitFor } from '@tally/testing';
import { BillingHarness, testTimings } from './billing-harness';

/**
 * Progressive billing end to end on the real components (NATS catalog and markers, ClickHouse events and
 * ledger, Temporal workflows and activities), isolated (own database, stream prefix and task queue). Two
 * customers send the same calls; `p` is on a plan that bills every 0.10 USD accrued, `q` on the same plan
 * without the setting. The open period is yesterday's (subscriptions start yesterday, UTC), so that
 * ending the subscriptions today closes it and its invoice is due at once.
 */
describe('progressive billing (real NATS, ClickHouse, Temporal)', () => {
  const h = new BillingHarness();
  let tenant: string;
  const day = 86_400_000;
  const yesterday = new Date(Date.now() - day).toISOString().slice(0, 10);
  const today = new Date().toISOString().slice(0, 10);
  let period: string;
  let monitor: ProgressiveMonitor;
  let alertSubscription: Subscription;
  const alerts: BillingThresholdAlert[] = [];
  let sent = 0;

  const subscription = (customer: string, plan: string, end?: string) =>
    h.store.putSubscription({
      tenant,
      id: `sub-${customer}`,
      customer,
      plan,
      start: yesterday,
      ...(end ? { end } : {}),
    });

  /** `n` more calls for both customers, at distinct instants of yesterday. */
  async function calls(n: number): Promise<void> {
    const events = [];
    for (let i = 0; i < n; i++) {
      const at = new Date(Date.parse(`${yesterday}T00:00:00Z`) + (sent + i) * 1000).toISOString();
      for (const customer of ['p', 'q'])
        events.push({ customer, type: 'call', at, id: `${customer}-${sent + i}` });
    }
    sent += n;
    await h.events(tenant, events);
  }

  const documents = (customer: string) => h.documents(tenant, customer, period);
  const interims = async () =>
    (await documents('p'))
      .filter((d) => d.kind === 'interim')
      .sort((a, b) => Number(a.interim?.thresholdsCrossed) - Number(b.interim?.thresholdsCrossed));

  beforeAll(async () => {
    await h.start();
    await h.startWorker({ quietSeconds: 1 });
    tenant = await h.tenant();
    for (const [id, progressive] of [
      ['metered-progressive', true],
      ['metered', false],
    ] as const)
      await h.store.putPlan({
        tenant,
        id,
        name: id,
        currency: 'USD',
        ...(progressive ? { progressiveBilling: { repeatEvery: '0.10' } } : {}),
        charges: [{ id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.01' }],
      });
    await h.customer({ tenant, id: 'p' });
    await h.customer({ tenant, id: 'q' });
    await subscription('p', 'metered-progressive');
    await subscription('q', 'metered');
    await waitFor(
      async () =>
        h.subscriptions.subscriptionsOf(tenant, 'q').length === 1 &&
        h.subscriptions.getPlan(tenant, 'metered'),
      {
        what: 'plans and subscriptions in the cache',
      },
    );
    period = (
      openCustomerPeriod(h.subscriptions.subscriptionsOf(tenant, 'p'), 'UTC', Date.now()) as {
        period: string;
      }
    ).period;
    monitor = new ProgressiveMonitor({
      tenants: () => [tenant],
      progressive: h.billing.progressive,
      trigger: new TemporalInterimTrigger(h.client, h.taskQueue, testTimings),
      alerts: new AlertDispatcher(h.nc, (t) => h.names.alertsSubject(t), new AlertStateStore(h.nc, h.names), h.logger, {
        claimTimeoutMs: 60_000,
      }),
      logger: h.logger,
      intervalMs: 0, // driven by the test (runOnce)
    });
    alertSubscription = h.nc.subscribe(h.names.alertsSubject(tenant));
    void (async () => {
      for await (const m of alertSubscription) alerts.push(m.json<BillingThresholdAlert>());
    })();
  });

  afterAll(async () => {
    alertSubscription.unsubscribe();
    await monitor.stop();
    for (const id of [
      billingWorkflowIds.progressiveBilling(tenant, 'p', period),
      billingWorkflowIds.rebill(tenant, 'p', period),
      billingWorkflowIds.rebill(tenant, 'q', period),
    ])
      await h.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined);
    await h.stop();
  });

  it('two crossings → two interim invoices; the final one completes the plain invoice; a late event → one adjustment', async () => {
    // 0.09 accrued: nothing.
    await calls(9);
    expect(await monitor.runOnce()).toEqual({ tenants: 1, crossings: 0, signalled: 0 });

    // 0.12: the first threshold (0.10).
    await calls(3);
    expect(await monitor.runOnce()).toMatchObject({ crossings: 1, signalled: 1 });
    await waitFor(async () => (await interims()).length === 1, {
      timeoutMs: 30_000,
      what: 'first interim invoice',
    });
    // Evaluated again (a second worker, the next interval): nothing new, no second document.
    await monitor.runOnce();

    // 0.35: three thresholds reached (0.30), one interim invoice for what accrued since.
    await calls(23);
    expect(await monitor.runOnce()).toMatchObject({ crossings: 1, signalled: 1 });
    await waitFor(async () => (await interims()).length === 2, {
      timeoutMs: 30_000,
      what: 'second interim invoice',
    });
    // Each crossing went through the alert path: one billing.threshold_crossed alert per interim invoice.
    await monitor.idle();
    await waitFor(async () => alerts.length === 2, { what: 'two threshold alerts on the alerts subject' });
    expect(alerts.map((a) => [a.type, a.customer, a.billingPeriod, a.thresholdsCrossed, a.accruedMinor, a.currency])).toEqual([
      ['billing.threshold_crossed', 'p', period, '1', '12', 'USD'],
      ['billing.threshold_crossed', 'p', period, '3', '35', 'USD'],
    ]);
    const handle = h.client.workflow.getHandle(billingWorkflowIds.progressiveBilling(tenant, 'p', period));
    const state = await handle.query<ProgressiveBillingState>(PROGRESS_QUERY);
    expect(state.issued).toBe(2);
    expect(
      (await interims()).map((d) => [
        d.invoiceId.replace(/-[0-9a-f]{16}-/, '-…-'),
        d.totalMinor,
        d.cumulativeTotalMinor,
      ]),
    ).toEqual([
      [`int-${period}-…-t1`, '12', '12'],
      [`int-${period}-…-t3`, '23', '35'],
    ]);

    // 0.40 by the end of the period; the subscriptions end today, so the period is over and due.
    await calls(5);
    await subscription('p', 'metered-progressive', today);
    await subscription('q', 'metered', today);
    await waitFor(async () => h.subscriptions.subscriptionsOf(tenant, 'q')[0]?.end === today, {
      what: 'ends in the cache',
    });
    // Too late for an interim invoice now, whatever the monitor sees.
    await monitor.runOnce();
    const results = await Promise.all(
      ['p', 'q'].map((customer) =>
        h.client.workflow.execute(BILLING_WORKFLOWS.customerInvoice, {
          taskQueue: h.taskQueue,
          workflowId: billingWorkflowIds.customerInvoice(tenant, customer, period),
          args: [{ tenant, customer, period, graceSeconds: 0, ...testTimings }],
        }),
      ),
    );
    expect(results).toEqual([
      expect.objectContaining({ status: 'issued', totalMinor: '5' }),
      expect.objectContaining({ status: 'issued', totalMinor: '40' }),
    ]);
    const final = (await documents('p')).find((d) => d.kind === 'invoice') as InvoiceDocument;
    expect((final.lines as InvoiceLine[]).map((l) => [l.kind, l.amountMinor])).toEqual([
      ['per_unit', '40'],
      ['interim_deduction', '-12'],
      ['interim_deduction', '-23'],
    ]);
    const progressiveTotal = (await documents('p')).reduce((s, d) => s + BigInt(d.totalMinor), 0n);
    const plain = (await documents('q')).find((d) => d.kind === 'invoice') as InvoiceDocument;
    expect(progressiveTotal.toString()).toBe(plain.totalMinor);
    expect(final.cumulativeTotalMinor).toBe(plain.cumulativeTotalMinor);
    expect((await interims()).length).toBe(2);
    // Woken after the end (a late monitor): the activity answers period_ended and the workflow ends.
    await handle.signal(THRESHOLD_CROSSED_SIGNAL, '3');
    expect(await handle.result()).toMatchObject({ issued: 2, checks: 3, pending: false });
    await h.recordHistory(handle.workflowId, 'progressive-billing');

    // A late event after the final invoice, signalled as the billing worker does: one adjustment each.
    await calls(1);
    const rebill = new TemporalRebillTrigger(h.client, h.taskQueue, { quietSeconds: 1, ...testTimings });
    for (const customer of ['p', 'q']) await rebill.trigger({ tenant, customer, period, count: 1 });
    const adjustmentOf = async (customer: string) =>
      waitFor(async () => (await documents(customer)).find((d) => d.kind === 'adjustment'), {
        timeoutMs: 30_000,
        what: `adjustment of ${customer}`,
      });
    const [adjP, adjQ] = await Promise.all([adjustmentOf('p'), adjustmentOf('q')]);
    expect([adjP.totalMinor, adjP.cumulativeTotalMinor, adjP.lateEventCount]).toEqual(['1', '41', 1]);
    expect([adjQ.totalMinor, adjQ.cumulativeTotalMinor]).toEqual(['1', '41']);
    // The same notice again: recomputed, nothing new.
    await rebill.trigger({ tenant, customer: 'p', period, count: 1 });
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await documents('p')).map((d) => d.kind).sort()).toEqual([
      'adjustment',
      'interim',
      'interim',
      'invoice',
    ]);
  }, 180_000);
});
