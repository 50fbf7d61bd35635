/**
 * `npm run bench:billing [-- --customers 10000 --customers-per-child 100 ...]`: the billing benchmark.
 *
 * Seeds a fresh ClickHouse database and NATS prefix with one tenant, three meters, one plan and N
 * customers with subscriptions and usage on all three meters (events inserted straight into ClickHouse
 * in bulk), starts the real `apps/billing-worker`, runs the tenant's billing run with a grace window of
 * 0, checks that every customer got exactly one invoice and that every invoice's amount equals a
 * recount from the generated events priced by @tally/pricing, and prints one JSON document on stdout
 * (progress on stderr): wall time of the run, invoices per second, the worker's peak RSS.
 */
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { Client, Connection } from '@temporalio/client';
import type { BillingRunState } from '@tally/billing-contracts';
import { CatalogStore, deleteBillingBucket, deleteCatalogBuckets } from '@tally/catalog';
import { sql, type EventRow } from '@tally/clickhouse';
import { createTestDatabase } from '@tally/clickhouse/testing';
import { connectNats, deleteStreams, ensureStreams, natsNames } from '@tally/nats';
import {
  randomPrefix,
  startService,
  testNatsUrl,
  testTemporalAddress,
  testNatsAuth,
} from '@tally/testing';
import { priceUsage } from '@tally/pricing';
import { numberOption, parseArgs, usage, type OptionSpec } from '../loadgen';
import { cpuSeconds, machineInfo, memoryMb } from './process-stats';
import { describeDifferences, totalDifferences } from './totals';
import { PERIOD, PLAN, RUN_AT, seedBillingData, startBenchBillingWorker } from './billing-data';

const specs = {
  customers: { env: 'BENCH_CUSTOMERS', help: 'customers to bill (default 10000)' },
  'events-per-meter': { env: 'BENCH_EVENTS_PER_METER', help: 'events per customer and meter (default 5)' },
  'customers-per-child': {
    env: 'BENCH_CUSTOMERS_PER_CHILD',
    help: 'customers per invoice workflow (default 100; 1 = one workflow per customer)',
  },
  window: { env: 'BENCH_WINDOW', help: 'invoice workflows running at once (default 20)' },
  'page-size': { env: 'BENCH_PAGE_SIZE', help: 'customers per catalog page of the run (default 2000)' },
  help: { flag: true, help: 'print this help' },
} satisfies Record<string, OptionSpec>;

const log = (line: string) =>
  process.stderr.write(`[bench:billing ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/**
 * Every customer's invoice total recounted from the events the bench generated (not from ClickHouse
 * or the meters): calls counted, tokens summed, peak storage, priced by @tally/pricing for a whole
 * October (every subscription started before it, and every event lies inside October in each
 * customer's time zone).
 */
function recountInvoices(rows: readonly EventRow[]): Map<string, string> {
  const usage = new Map<string, { calls: number; tokens: bigint; storage: number }>();
  for (const row of rows) {
    const u = usage.get(row.customer) ?? { calls: 0, tokens: 0n, storage: 0 };
    if (row.eventType === 'call') u.calls += 1;
    else if (row.eventType === 'completion') u.tokens += BigInt(row.properties.tokens);
    else if (row.eventType === 'storage') u.storage = Math.max(u.storage, Number(row.properties.gb));
    usage.set(row.customer, u);
  }
  return new Map(
    [...usage].map(([customer, u]) => [
      customer,
      priceUsage({
        plan: PLAN,
        usage: { calls: String(u.calls), tokens: u.tokens.toString(), storage: String(u.storage) },
        period: { daysInPeriod: 31, activeDays: 31 },
      }).totalMinor,
    ]),
  );
}

async function main(): Promise<void> {
  const args = parseArgs(specs);
  if (args.help) {
    process.stdout.write(`usage: npm run bench:billing -- [options]\n${usage(specs)}\n`);
    return;
  }
  const int = { integer: true, min: 1 };
  const customers = numberOption(args, 'customers', 10_000, int);
  const eventsPerMeter = numberOption(args, 'events-per-meter', 5, int);
  const perChild = numberOption(args, 'customers-per-child', 100, { ...int, max: 1000 });
  const window = numberOption(args, 'window', 20, { ...int, max: 1000 });
  const pageSize = numberOption(args, 'page-size', 2000, { ...int, max: 10_000 });

  const names = natsNames(randomPrefix('bench'));
  const nc = await connectNats(testNatsUrl(), 'bench-billing', testNatsAuth());
  await ensureStreams(nc, names);
  const db = await createTestDatabase();
  const store = await CatalogStore.open(nc, names);
  const connection = await Connection.connect({ address: testTemporalAddress() });
  const client = new Client({ connection });
  const tenant = `bench-${randomUUID().slice(0, 8)}`;
  const taskQueue = randomPrefix('bench');
  let worker: ReturnType<typeof startService> | undefined;
  try {
    // ---------------------------------------------------------------- seed (not measured)
    const rows = await seedBillingData({ store, db, tenant, customers, eventsPerMeter, log });

    // ---------------------------------------------------------------- worker
    worker = await startBenchBillingWorker({ prefix: names.prefix, database: db.database, taskQueue });
    const pid = worker.child.pid as number;
    log(
      `worker up (pid ${pid}); billing run: ${customers} customers, ${perChild} per child, ${window} children at once`,
    );

    // ---------------------------------------------------------------- the measured run
    // The worker bundles the workflow code with webpack at start-up: its peak so far is that, not billing.
    const startupPeakRssMb = memoryMb(pid).peakRssMb;
    const cpuBefore = cpuSeconds(pid);
    const started = performance.now();
    const handle = await client.workflow.start('billingRunWorkflow', {
      taskQueue,
      workflowId: `billing-run/${tenant}`,
      args: [
        {
          tenant,
          at: RUN_AT,
          graceSeconds: 0,
          customersPerChild: perChild,
          maxConcurrentChildren: window,
          pageSize,
        },
      ],
    });
    const progress = setInterval(() => {
      handle
        .query<{ counts: Record<string, number>; running: number }>('progress')
        .then((p) => log(`progress: ${JSON.stringify(p.counts)} running ${p.running}`))
        .catch(() => undefined);
    }, 10_000);
    const state = (await handle.result()) as BillingRunState;
    clearInterval(progress);
    const wallSeconds = (performance.now() - started) / 1000;
    const memory = memoryMb(pid);
    const workerCpuSeconds = cpuSeconds(pid) - cpuBefore;

    const [ledger] = await db.client.query<{ documents: string; customers: string; total: string }>(
      sql`SELECT toString(count()) AS documents, toString(uniqExact(customer)) AS customers, toString(sum(total_minor)) AS total
          FROM ${db.client.table('invoices')} FINAL WHERE tenant = ${tenant} AND period = ${PERIOD}`,
      { exactNumbers: true },
    );
    const invoices = Number(ledger.documents);
    // Every invoice's amount against the recount: one wrong amount fails the run, naming the customer.
    const amounts = await db.client.query<{ customer: string; total: string }>(
      sql`SELECT customer, toString(total_minor) AS total
          FROM ${db.client.table('invoices')} FINAL WHERE tenant = ${tenant} AND period = ${PERIOD}`,
      { exactNumbers: true },
    );
    const differences = totalDifferences(
      recountInvoices(rows),
      new Map(amounts.map((a) => [a.customer, a.total])),
    );
    const result = {
      customers,
      events: rows.length,
      customersPerChild: perChild,
      maxConcurrentChildren: window,
      invoices,
      invoicedCustomers: Number(ledger.customers),
      exactlyOnePerCustomer: invoices === customers && Number(ledger.customers) === customers,
      amountsChecked: amounts.length,
      amountsWrong: differences.length,
      counts: state.counts,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      invoicesPerSecond: Math.round((invoices / wallSeconds) * 10) / 10,
      workerPeakRssMb: memory.peakRssMb,
      workerPeakRssAtStartupMb: startupPeakRssMb,
      workerRssAfterRunMb: memory.rssMb,
      workerCpuSeconds: Math.round(workerCpuSeconds * 10) / 10,
      targetMet: wallSeconds <= 180 && invoices === customers,
      machine: machineInfo(),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (!result.exactlyOnePerCustomer) process.exitCode = 1;
    if (differences.length) {
      log(
        describeDifferences('invoice amounts (minor units) differ from the recount', differences, customers, {
          actual: 'invoice',
          expected: 'recount',
        }),
      );
      process.exitCode = 1;
    }
  } finally {
    await worker?.stop();
    await connection.close();
    await deleteStreams(nc, names).catch(() => undefined);
    await deleteCatalogBuckets(nc, names);
    await deleteBillingBucket(nc, names);
    const jsm = await jetstreamManager(nc).catch(() => undefined);
    await jsm?.streams.delete(`KV_${names.billingBucket}`).catch(() => undefined);
    await nc.close();
    await db.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
