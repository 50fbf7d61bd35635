import { unitLedgerOf, type InvoiceDocument } from '@tally/billing';
import { CreditLedgerEntries } from '@tally/catalog';
import { unitGrantBalance } from '@tally/pricing';
import { waitFor } from '@tally/testing';
import { BillingHarness } from './billing-harness';

/**
 * Unit grants end to end on Temporal (real Temporal, NATS and ClickHouse; docs/finance.md#unit-grants).
 * Customer `u1` on plan _units_: $5.00 a month, API calls graduated (first 2 free, then up to 10 at
 * $0.10, up to 100 at $0.05, then $0.01). Two unit grants written through the entries API's service:
 * `short`, 10 calls usable until 16 October, and `big`, 60 calls from 1 October. Calls: 8 on 5 October,
 * 45 on 20 October, 30 on 10 November.
 *
 * October: 5 Oct, 8 calls: 2 free, 6 from `short` (it expires first); its 4 left expire on 16 October.
 *   20 Oct, 45 calls: all from `big` (15 left). Calls billed 0. **Total 500** (the fee).
 * November: 30 calls: 2 free, the 15 left of `big`, 13 billed from tier 1: 10 × $0.10 + 3 × $0.05
 *   = 1.00 + 0.15 = 115. **Total 615.**
 * Balance: on 1 November granted 70, drawn 51, expired 4, 15 left; on 1 December 0.
 */
const OCTOBER_RUN = '2026-11-01T06:00:00.000Z';
const NOVEMBER_RUN = '2026-12-01T06:00:00.000Z';

async function seed(h: BillingHarness, tenant: string): Promise<void> {
  await h.store.putPlan({
    tenant,
    id: 'units',
    name: 'Units',
    currency: 'USD',
    charges: [
      { id: 'base', name: 'Platform fee', kind: 'flat', amount: '5' },
      {
        id: 'calls',
        name: 'API calls',
        kind: 'graduated',
        meter: 'calls',
        freeUnits: '2',
        tiers: [
          { upTo: '10', unitPrice: '0.10' },
          { upTo: '100', unitPrice: '0.05' },
          { upTo: null, unitPrice: '0.01' },
        ],
      },
    ],
  });
  await h.customer({ tenant, id: 'u1', billing: { credits: [] } });
  await h.store.putSubscription({
    tenant,
    id: 'u1-units',
    customer: 'u1',
    plan: 'units',
    start: '2026-10-01',
  });
  // What POST /v1/customers/u1/credits/entries runs.
  const entries = new CreditLedgerEntries(h.store);
  await entries.append(tenant, 'u1', {
    type: 'unit_grant',
    id: 'short',
    meter: 'calls',
    units: '10',
    effective: '2026-10-01',
    expires: '2026-10-16',
  });
  await entries.append(tenant, 'u1', {
    type: 'unit_grant',
    id: 'big',
    meter: 'calls',
    units: '60',
    effective: '2026-10-01',
  });
  await waitFor(
    async () =>
      h.subscriptions.subscriptionsOf(tenant, 'u1').length === 1 &&
      h.subscriptions.getPlan(tenant, 'units') !== undefined &&
      h.cache.getCustomer(tenant, 'u1')?.billing?.credits?.length === 2,
    { what: 'plan, subscription and unit grants in the caches' },
  );
  const calls = (n: number, at: string) =>
    Array.from({ length: n }, () => ({ customer: 'u1', type: 'call', at }));
  await h.events(tenant, [
    ...calls(8, '2026-10-05T10:00:00Z'),
    ...calls(45, '2026-10-20T10:00:00Z'),
    ...calls(30, '2026-11-10T10:00:00Z'),
  ]);
}

function expectUnitGrants(docs: InvoiceDocument[]): void {
  expect(docs.map((d) => [d.kind, d.version, d.period, d.totalMinor])).toEqual([
    ['invoice', 1, '2026-10', '500'],
    ['invoice', 1, '2026-11', '615'],
  ]);
  const [oct, nov] = docs;
  const calls = (d: InvoiceDocument) => d.effectiveLines.find((l) => l.chargeId === 'calls');
  expect(calls(oct)).toMatchObject({
    quantity: '53',
    grantedUnits: '51',
    billableQuantity: '0',
    amountMinor: '0',
  });
  expect(calls(nov)).toMatchObject({
    quantity: '30',
    grantedUnits: '15',
    billableQuantity: '13',
    amountMinor: '115',
  });
  expect(calls(nov)?.tiers?.map((t) => [t.tier, t.quantity, t.amount])).toEqual([
    [1, '10', '1'],
    [2, '3', '0.15'],
  ]);
  expect(oct.finance?.unitCredits?.map((u) => [u.grantId, u.date, u.units])).toEqual([
    ['short', '2026-10-05', '6'],
    ['big', '2026-10-20', '45'],
  ]);
  expect(nov.finance?.unitCredits?.map((u) => [u.grantId, u.date, u.units])).toEqual([
    ['big', '2026-11-10', '15'],
  ]);
}

describe('unit grants on Temporal: drawn before pricing, the next period draws the rest (real Temporal, NATS and ClickHouse)', () => {
  const h = new BillingHarness();

  beforeAll(async () => {
    await h.start();
  });
  afterAll(async () => {
    await h.stopWorker().catch(() => undefined);
    await h.stop();
  });

  const run = (tenant: string, at: string) => h.runBilling(tenant, at);

  it('bills October and November with the granted calls taken off, once each', async () => {
    await h.startWorker();
    const tenant = await h.tenant();
    await seed(h, tenant);
    expect((await run(tenant, OCTOBER_RUN)).counts.issued).toBe(1);
    const ledger = unitLedgerOf(h.cache.getCustomer(tenant, 'u1'), await h.documents(tenant, 'u1'));
    expect(unitGrantBalance(ledger.grants, ledger.draws, 'calls', '2026-11-01')).toMatchObject({
      grantedUnits: '70',
      drawnUnits: '51',
      expiredUnits: '4',
      balanceUnits: '15',
    });
    expect((await run(tenant, NOVEMBER_RUN)).counts.issued).toBe(1);
    // Runs again at the same times: nothing more, nothing drawn twice.
    expect((await run(tenant, OCTOBER_RUN)).due).toBe(0);
    expect((await run(tenant, NOVEMBER_RUN)).due).toBe(0);
    const docs = await h.documents(tenant, 'u1');
    expectUnitGrants(docs);
    const after = unitLedgerOf(h.cache.getCustomer(tenant, 'u1'), docs);
    expect(unitGrantBalance(after.grants, after.draws, 'calls', '2026-12-01').balanceUnits).toBe('0');
    await h.stopWorker();
  });
});
