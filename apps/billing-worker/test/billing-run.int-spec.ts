import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import type { InvoiceLine, InvoiceNotice } from '@tally/billing';
import {
  billingWorkflowIds,
  type BillingRunInput,
  type BillingRunState,
  type InvoiceResult,
} from '@tally/billing-contracts';
import { sql } from '@tally/clickhouse';
import { randomPrefix, waitFor } from '@tally/testing';
import { BillingHarness, testTimings } from './billing-harness';
import { EXPECTED_TOTALS, OCTOBER, RUN_AT, seedOctober } from './scenario';

describe('monthly billing on Temporal (real Temporal, NATS and ClickHouse)', () => {
  const h = new BillingHarness();

  beforeAll(async () => {
    await h.start();
    await h.startWorker();
  });
  afterAll(async () => {
    await h.stop();
  });

  let lastRun = { workflowId: '', firstExecutionRunId: '' };
  const run = async (input: BillingRunInput): Promise<BillingRunState> => {
    const handle = await h.client.workflow.start('billingRunWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `${billingWorkflowIds.billingRun(input.tenant)}-${randomPrefix('r')}`,
      args: [{ at: RUN_AT, graceSeconds: 0, ...testTimings, ...input }],
    });
    lastRun = handle;
    return (await handle.result()) as BillingRunState;
  };

  async function expectOctoberInvoices(tenant: string): Promise<void> {
    for (const customer of ['a', 'b', 'c']) {
      const docs = await h.documents(tenant, customer);
      expect(docs.map((d) => [d.kind, d.version, d.period, d.totalMinor, d.currency])).toEqual([
        ['invoice', 1, OCTOBER, EXPECTED_TOTALS[customer], 'USD'],
      ]);
    }
    expect(await h.documents(tenant, 'd')).toEqual([]);
    expect(await h.documents(tenant, 'e')).toEqual([]);
  }

  it('bills every customer whose period ended, once each, with hand-computed amounts (one child per customer)', async () => {
    const tenant = await h.tenant();
    await seedOctober(h, tenant);

    const notices: InvoiceNotice[] = [];
    const subscription = h.nc.subscribe(h.names.invoicesSubject(tenant), {
      callback: (_e, m) => void notices.push(m.json<InvoiceNotice>()),
    });
    const state = await run({
      tenant,
      customersPerChild: 1,
      maxConcurrentChildren: 2,
      pageSize: 2,
      pagesPerRun: 1,
    });
    const { workflowId, firstExecutionRunId } = lastRun;
    await h.recordHistory(workflowId, 'billing-run-first', firstExecutionRunId);
    await h.recordHistory(workflowId, 'billing-run-last');
    await h.recordHistory(billingWorkflowIds.customerInvoice(tenant, 'b', OCTOBER), 'customer-invoice');
    expect(state.counts).toEqual({
      issued: 3,
      already_issued: 0,
      already_closed: 0,
      no_subscription: 0,
      failed: 0,
    });
    // Five customers with subscriptions or not: four have subscriptions, paged two at a time with continue-as-new.
    expect(state.scanned).toBe(4);
    await expectOctoberInvoices(tenant);

    const a = (await h.documents(tenant, 'a'))[0];
    expect((a.lines as InvoiceLine[]).map((l) => [l.chargeId, l.quantity, l.amountMinor])).toEqual([
      ['base', '1', '1000'],
      ['calls', '5', '15'],
      ['tokens', '1500', '125'],
      ['storage', '7', '700'],
    ]);
    expect(a.usage['sub-a'].calls.days.map((d) => d.day)).toEqual([
      '2026-10-01',
      '2026-10-02',
      '2026-10-10',
      '2026-10-20',
      '2026-10-31',
    ]);
    const b = (await h.documents(tenant, 'b'))[0];
    expect(b.lines[0]).toMatchObject({
      chargeId: 'base',
      proration: { activeDays: 16, daysInPeriod: 31 },
      amountMinor: '516',
    });
    expect(b.periodStart).toBe('2026-10-16T04:00:00.000Z');
    expect(b.periodEnd).toBe('2026-11-01T04:00:00.000Z');
    // Each invoice carries the completeness watermark its usage was read at, past the period's end.
    for (const doc of [a, b]) {
      expect(Date.parse(doc.completeThrough ?? '')).toBeGreaterThanOrEqual(Date.parse(doc.periodEnd));
      expect(Date.parse(doc.completeThrough ?? '')).toBeLessThanOrEqual(Date.now());
    }
    expect(a.pricing.meterVersions).toEqual({ calls: 1, tokens: 1, storage: 1 });

    // Announced on NATS, once each.
    await h.nc.flush();
    subscription.unsubscribe();
    expect(notices.map((n) => [n.type, n.customer, n.totalMinor]).sort()).toEqual([
      ['invoice.issued', 'a', '1840'],
      ['invoice.issued', 'b', '536'],
      ['invoice.issued', 'c', '1205'],
    ]);

    // Marked closed, with the invoice it got.
    expect(await h.closed.get(tenant, 'a', OCTOBER)).toMatchObject({
      state: 'invoiced',
      invoiceId: a.invoiceId,
      totalMinor: '1840',
    });

    // A second run at the same time finds nothing left to bill and writes nothing.
    const again = await run({ tenant });
    expect(again.due).toBe(0);
    expect(Object.values(await h.rawRowCounts(tenant))).toEqual([1, 1, 1]);
  });

  it("matches each invoice's fingerprint with a recount from raw events", async () => {
    const tenant = await h.tenant();
    await seedOctober(h, tenant);
    await run({ tenant });
    for (const customer of ['a', 'b', 'c']) {
      const [doc] = await h.documents(tenant, customer);
      const [recount] = await h.db.client.query<{ n: string; checksum: string }>(
        sql`SELECT toString(count()) AS n, toString(sum(cityHash64(event_id))) AS checksum FROM ${h.db.client.table('events')}
            WHERE tenant = ${tenant} AND customer = ${customer} AND event_type IN ('call', 'completion', 'storage')
            AND ts >= ${new Date(doc.periodStart)} AND ts < ${new Date(doc.periodEnd)}`,
      );
      expect(doc.fingerprint).toEqual({ eventCount: recount.n, checksum: recount.checksum });
    }
    expect((await h.documents(tenant, 'a'))[0].fingerprint.eventCount).toBe('9');
  });

  it('bills customers in batches with the same result (customersPerChild > 1)', async () => {
    const tenant = await h.tenant();
    await seedOctober(h, tenant);
    const state = await run({ tenant, customersPerChild: 2 });
    expect(state.counts.issued).toBe(3);
    expect(state.children).toBe(2);
    await h.recordHistory(`${lastRun.workflowId}/batch-0`, 'invoice-batch');
    await expectOctoberInvoices(tenant);
  });

  it("starting a customer's invoice workflow twice yields one invoice", async () => {
    const tenant = await h.tenant();
    await seedOctober(h, tenant);
    const start = () =>
      h.client.workflow.start('customerInvoiceWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: billingWorkflowIds.customerInvoice(tenant, 'a', OCTOBER),
        args: [{ tenant, customer: 'a', period: OCTOBER, graceSeconds: 0, ...testTimings }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      });
    const first = await start();
    await expect(start()).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    const result = (await first.result()) as InvoiceResult;
    expect(result).toMatchObject({ status: 'issued', totalMinor: '1840' });
    await expect(start()).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);

    // Another workflow (a batch of a billing run) finds the period closed and leaves it alone.
    const state = await run({ tenant, customersPerChild: 3, lookbackHours: 48 });
    expect(state.counts).toMatchObject({ issued: 2 });
    const batch = (await h.client.workflow.execute('invoiceBatchWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: randomPrefix('batch'),
      args: [
        {
          tenant,
          periods: [{ customer: 'a', period: OCTOBER, endsAtMs: Date.parse('2026-11-01T00:00:00Z') }],
          graceSeconds: 0,
          ...testTimings,
        },
      ],
    })) as InvoiceResult[];
    expect(batch).toEqual([
      expect.objectContaining({ customer: 'a', status: 'already_closed', invoiceId: result.invoiceId }),
    ]);
    expect(await h.documents(tenant, 'a')).toHaveLength(1);
    expect(Object.values(await h.rawRowCounts(tenant)).every((n) => n === 1)).toBe(true);
  });

  it('reports a customer a billing rule refuses as failed, and bills it on a later run once the catalog is fixed', async () => {
    const tenant = await h.tenant();
    await h.store.putPlan({
      tenant,
      id: 'euro',
      name: 'Euro',
      currency: 'EUR',
      charges: [{ id: 'f', name: 'Fee', kind: 'flat', amount: '5' }],
    });
    await h.customer({ tenant, id: 'x' }, { id: 'sub-x-usd', start: '2026-01-01' });
    await h.store.putSubscription({
      tenant,
      id: 'sub-x-eur',
      customer: 'x',
      plan: 'euro',
      start: '2026-01-01',
    });
    await h.customer({ tenant, id: 'y' }, { start: '2026-01-01' });
    await waitFor(async () => h.subscriptions.subscriptionsOf(tenant, 'x').length === 2, {
      what: 'both subscriptions',
    });

    for (const customersPerChild of [1, 5]) {
      const state = await run({ tenant, customersPerChild });
      expect(state.counts).toMatchObject({ issued: customersPerChild === 1 ? 1 : 0, failed: 1 });
      expect(state.failures).toEqual([
        expect.objectContaining({
          customer: 'x',
          status: 'failed',
          detail: expect.stringContaining('MIXED_CURRENCIES'),
        }),
      ]);
      // The claim was given back: nothing is closed for x.
      expect(await h.closed.get(tenant, 'x', OCTOBER)).toBeUndefined();
    }
    await h.store.deleteSubscription(tenant, 'sub-x-eur');
    await waitFor(async () => h.subscriptions.subscriptionsOf(tenant, 'x').length === 1, {
      what: 'subscription gone',
    });
    const fixed = await run({ tenant });
    expect(fixed.counts).toMatchObject({ issued: 1, failed: 0 });
    expect((await h.documents(tenant, 'x')).map((d) => d.totalMinor)).toEqual(['1000']);
  });
});
