/**
 * The usage API and an invoice measure the same period and count the same usage, for customers in
 * three zones whose periods each cross a DST change of their zone (New York's end of summer time on
 * 1 November, Berlin's on 25 October, Sydney's start on 4 October 2026). Events sit one minute before
 * and after each local period boundary and just inside it, where a wrong offset would move them.
 * Real ClickHouse and NATS: the usage module as `apps/query` runs it, the billing services as the
 * worker runs them.
 */
import {
  billingAdapters,
  ClosedPeriodStore,
  createBillingServices,
  InvoiceLedger,
  type BillingServices,
  type InvoiceLine,
} from '@tally/billing';
import { startOfDate } from '@tally/billing-periods';
import { deleteBillingBucket } from '@tally/catalog';
import { createLogger } from '@tally/observability';
import { UsageHarness, type TestEvent } from './test-support/usage-harness';

const TENANT = 'acme-dst';
const CUSTOMERS = [
  // id, zone, anchor day, expected local period [start, end)
  { id: 'ny', zone: 'America/New_York', anchor: 20, start: '2026-10-20', end: '2026-11-20' },
  { id: 'be', zone: 'Europe/Berlin', anchor: 20, start: '2026-10-20', end: '2026-11-20' },
  { id: 'sy', zone: 'Australia/Sydney', anchor: 1, start: '2026-10-01', end: '2026-11-01' },
];

describe('the usage API and invoices agree on a period across DST changes (three zones)', () => {
  const h = new UsageHarness();
  let key: string;
  let closed: ClosedPeriodStore;
  let ledger: InvoiceLedger;
  let billing: BillingServices;

  beforeAll(async () => {
    await h.start();
    ({ query: key } = await h.tenant({ id: TENANT, timezone: 'UTC' }));
    await h.store.putMeter({
      tenant: TENANT,
      key: 'calls',
      name: 'Calls',
      eventTypes: ['call'],
      aggregation: 'count',
    });
    await h.store.putPlan({
      tenant: TENANT,
      id: 'metered',
      name: 'Metered',
      currency: 'USD',
      charges: [{ id: 'calls', name: 'Calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.01' }],
    });
    for (const c of CUSTOMERS) {
      await h.store.putCustomer({ tenant: TENANT, id: c.id, timezone: c.zone });
      await h.store.putSubscription({
        tenant: TENANT,
        id: `sub-${c.id}`,
        customer: c.id,
        plan: 'metered',
        start: '2026-09-01',
        billingAnchorDay: c.anchor,
      });
    }
    await h.settle(
      () =>
        h.cache.getMeter(TENANT, 'calls') !== undefined &&
        h.cache.getPlan(TENANT, 'metered') !== undefined &&
        CUSTOMERS.every((c) => h.cache.subscriptionsOf(TENANT, c.id).length === 1),
    );
    closed = await ClosedPeriodStore.open(h.nc, h.names);
    ledger = new InvoiceLedger(h.db.client);
    billing = createBillingServices({
      ...billingAdapters({
        clickhouse: h.db.client,
        nc: h.nc,
        names: h.names,
        catalog: h.cache,
        store: h.store,
        closed,
        logger: createLogger('agreement-test', 'warn'),
      }),
      ledger,
    });
    const events: TestEvent[] = [];
    for (const c of CUSTOMERS) {
      const from = startOfDate(c.start, c.zone);
      const to = startOfDate(c.end, c.zone);
      const at = (ms: number, n: string) =>
        events.push({
          tenant: TENANT,
          id: `${c.id}-${n}`,
          at: new Date(ms).toISOString(),
          customer: c.id,
          type: 'call',
        });
      at(from - 60_000, 'before'); // the previous period
      at(from, 'first'); // the first instant of the period
      at(from + 15 * 86_400_000, 'middle');
      at(to - 60_000, 'last-minute'); // after the DST change: a fixed offset would put it elsewhere
      at(to - 1, 'last'); // the last millisecond
      at(to, 'after'); // the next period
    }
    await h.insert(events);
  });

  afterAll(async () => {
    await deleteBillingBucket(h.nc, h.names).catch(() => undefined);
    await h.stop();
  });

  it.each(CUSTOMERS)('$id ($zone): same period, same usage', async (c) => {
    const from = startOfDate(c.start, c.zone);
    const to = startOfDate(c.end, c.zone);
    // The usage API's current period, one hour before it ends (after the DST change).
    h.clock = new Date(to - 3_600_000);
    const api = await h.get(`/v1/customers/${c.id}/current-usage`, key);
    expect(api.status).toBe(200);
    expect(api.body.period).toMatchObject({
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    });
    const apiCalls = api.body.usage.find((u: { series: string }) => u.series === 'calls').total;

    // The invoice of the period that started in October.
    const [share] = billing.due.describePeriods(TENANT, [{ customer: c.id, period: '2026-10' }]);
    if (!share) throw new Error(`no period for ${c.id}`);
    expect([share.fromMs, share.toMs]).toEqual([from, to]);
    const [issued] = await billing.issuer.issueInvoices({
      tenant: TENANT,
      owner: `test/${c.id}`,
      periods: [{ customer: c.id, share }],
    });
    expect(issued.status).toBe('issued');
    const [doc] = await ledger.listForCustomer(TENANT, c.id, '2026-10');
    expect([doc.periodStart, doc.periodEnd]).toEqual([api.body.period.from, api.body.period.to]);
    const invoiced = (doc.lines as InvoiceLine[]).find((l) => l.meter === 'calls')?.quantity;

    expect(apiCalls).toBe('4');
    expect(invoiced).toBe(apiCalls);
  });
});
