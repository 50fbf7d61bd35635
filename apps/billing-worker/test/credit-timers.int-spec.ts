import { NativeConnection, Worker } from '@temporalio/worker';
import { createBillingActivities } from '@tally/activities';
import {
  billingAdapters,
  createBillingServices,
  creditEntriesOf,
  CreditGrantStarter,
  DeadLetterReplayer,
  TemporalCreditGrantTrigger,
} from '@tally/billing';
import { billingWorkflowIds, type CreditGrantState } from '@tally/billing-contracts';
import { localDateOf, startOfDate } from '@tally/billing-periods';
import { CreditLedgerEntries, type CreditLedgerEntry } from '@tally/catalog';
import { addMonthsToDate, creditBalance } from '@tally/pricing';
import { randomPrefix, waitFor } from '@tally/testing';
import { BillingHarness, testTimings, workflowBundle } from './billing-harness';

const DAY_MS = 86_400_000;

/**
 * Credit expiry and recurrence as durable timers on real Temporal, NATS and ClickHouse
 * (docs/finance.md#expiry-and-recurrence-timers). Dates are local dates, so the test moves the
 * activities' clock (the only clock the timers read; the workflow only sleeps what the activity says)
 * to 6 seconds before tomorrow starts in the customer's zone (UTC): the grants below expire, and recur,
 * 6 real seconds later.
 *
 * - `once`: $50.00 from today, expiring tomorrow. Balance today 5000; tomorrow 0, 5000 expired.
 * - `monthly`: $10.00 a month from a month before tomorrow, rest rolled over up to $3.00. Tomorrow its
 *   occurrence #0 (1000, nothing drawn) expires, 300 of it rolls over, occurrence #1 (1000) starts:
 *   balance 1000 + 300 = 1300, 1000 expired. Total tomorrow: 1300 left, 6000 expired.
 */
describe('credit grant timers on Temporal (real Temporal, NATS and ClickHouse)', () => {
  const h = new BillingHarness();
  let native: NativeConnection;
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;

  beforeAll(async () => {
    await h.start();
    native = await NativeConnection.connect({ address: h.temporalAddress });
  });
  afterAll(async () => {
    await native?.close();
    await h.stop();
  });

  /** A worker of this test's queue whose activities read the moved clock; `failAfterRecord` once. */
  const startWorker = async (failAfterRecord = false) => {
    const billing = createBillingServices({
      ...billingAdapters({
        clickhouse: h.db.client,
        nc: h.nc,
        names: h.names,
        catalog: h.cache,
        store: h.store,
        closed: h.closed,
        logger: h.logger,
      }),
      ledger: h.ledger,
      clock,
    });
    if (failAfterRecord) {
      // The worst moment to die: the records are in the ledger, the activity never completes.
      const record = CreditLedgerEntries.prototype.record;
      CreditLedgerEntries.prototype.record = async function (this: CreditLedgerEntries, ...args) {
        const ids = await record.apply(this, args);
        CreditLedgerEntries.prototype.record = record;
        throw new Error(`test fault: the worker died after recording ${ids.join(', ')}`);
      };
    }
    const worker = await Worker.create({
      connection: native,
      taskQueue: h.taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createBillingActivities({
        billing,
        replayer: new DeadLetterReplayer(h.nc, h.names, h.cache, h.closed.kv, h.logger),
      }),
    });
    return { worker, run: worker.run() };
  };

  const ledger = async (tenant: string): Promise<CreditLedgerEntry[]> =>
    (await h.store.getCustomer(tenant, 'c1'))?.value.billing?.credits ?? [];

  it('records an expiry and a recurrence once, on their date, across a worker restart, a failed step and a second start', async () => {
    const tenant = await h.tenant();
    await h.customer({ tenant, id: 'c1' });
    const first = await startWorker();
    const starter = new CreditGrantStarter(
      h.cache,
      new TemporalCreditGrantTrigger(h.client, h.taskQueue, testTimings),
      h.logger,
    );
    await starter.start();

    const today = localDateOf(Date.now(), 'UTC');
    const tomorrow = localDateOf(Date.now() + DAY_MS, 'UTC');
    offsetMs = startOfDate(tomorrow, 'UTC') - 6_000 - Date.now();
    // Through the service of POST /v1/customers/:id/credits/entries; the starter sees them in the catalog.
    const entries = new CreditLedgerEntries(h.store);
    await entries.append(tenant, 'c1', {
      type: 'grant',
      id: 'once',
      currency: 'USD',
      amountMinor: '5000',
      effective: today,
      expires: tomorrow,
    });
    await entries.append(tenant, 'c1', {
      type: 'grant',
      id: 'monthly',
      currency: 'USD',
      amountMinor: '1000',
      effective: addMonthsToDate(tomorrow, -1),
      recurrence: { everyMonths: 1 },
      rollover: { maxMinor: '300' },
    });
    const once = h.client.workflow.getHandle(billingWorkflowIds.creditGrant(tenant, 'c1', 'once'));
    const monthly = h.client.workflow.getHandle(billingWorkflowIds.creditGrant(tenant, 'c1', 'monthly'));
    const progress = (handle: typeof once) => handle.query<CreditGrantState>('progress');
    await waitFor(
      async () => {
        await starter.settled();
        const states = await Promise.all([progress(once), progress(monthly)]).catch(() => undefined);
        return states?.every((s) => s.wakes === 1 && s.next === tomorrow);
      },
      { timeoutMs: 30_000, what: 'both grant workflows asleep until tomorrow' },
    );
    // Nothing recorded before the date.
    expect((await ledger(tenant)).map((e) => e.id)).toEqual(['once', 'monthly']);

    // The worker goes away while the timers sleep; the next one's first step fails right after its records.
    first.worker.shutdown();
    await first.run;
    const second = await startWorker(true);
    const state = (await once.result()) as CreditGrantState;
    await h.recordHistory(once.workflowId, 'credit-grant');
    expect(clock()).toBeGreaterThanOrEqual(startOfDate(tomorrow, 'UTC'));
    await waitFor(async () => (await progress(monthly)).next === addMonthsToDate(tomorrow, 1), {
      timeoutMs: 30_000,
      what: 'the monthly grant asleep until its next occurrence',
    });
    const records = (await ledger(tenant)).filter((e) => e.type === 'expiry' || e.type === 'recurrence');
    expect(records.map((e) => [e.type, e.id, e.date]).sort()).toEqual([
      ['expiry', 'monthly__0__expiry', tomorrow],
      ['expiry', 'once__expiry', tomorrow],
      ['recurrence', 'monthly__1__recurrence', tomorrow],
    ]);
    // The failed step's retry found its records there: the completed run says what its steps appended.
    expect(state.wakes).toBeGreaterThanOrEqual(2);

    // The balance the API and the invoices replay: it drops tomorrow, and names the records.
    const customer = await h.store.getCustomer(tenant, 'c1');
    const replay = creditEntriesOf(customer?.value, await h.documents(tenant, 'c1'));
    const before = creditBalance(replay, 'USD', today);
    const after = creditBalance(replay, 'USD', tomorrow);
    expect([before.balanceMinor, before.expiredMinor]).toEqual(['6000', '0']);
    expect([after.balanceMinor, after.expiredMinor, after.grantedMinor]).toEqual(['1300', '6000', '7300']);
    expect(
      after.log.filter((l) => l.type === 'expiry').map((l) => [l.bucketId, l.amountMinor, l.recorded]),
    ).toEqual([
      ['monthly#0', '1000', 'monthly__0__expiry'],
      ['once', '5000', 'once__expiry'],
    ]);

    // Started again: by a restarted worker's starter (already ran: refused), and as a second run by hand.
    const again = new CreditGrantStarter(
      h.cache,
      new TemporalCreditGrantTrigger(h.client, h.taskQueue, testTimings),
      h.logger,
    );
    await again.start();
    const rerun = (await h.client.workflow.execute('creditGrantWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `${billingWorkflowIds.creditGrant(tenant, 'c1', 'once')}-${randomPrefix('again')}`,
      args: [{ tenant, customer: 'c1', grantId: 'once', ...testTimings }],
    })) as CreditGrantState;
    expect(rerun).toEqual({ wakes: 1, recorded: [] });
    expect((await ledger(tenant)).length).toBe(5);

    await again.stop();
    await starter.stop();
    await monthly.terminate('test done');
    second.worker.shutdown();
    await second.run;
  });
});
