/**
 * `npm run bench:simulate [-- --customers 10000 ...]`: the simulation benchmark.
 *
 * Seeds the billing benchmark's data (`billing-data.ts`: one tenant, three meters, one plan, N
 * customers with a month of usage), starts the real `apps/billing-worker`, runs the tenant's billing
 * run (measured), then, back to back on the same worker, a simulation of the same customers and month
 * under a draft plan as `simulationWorkflow` (measured), and checks it: every customer simulated on the
 * very events billed (fingerprints equal), billed amounts equal to the ledger's, simulated amounts equal
 * to a recount of the generated events priced with the draft by @tally/pricing. Prints one JSON
 * document on stdout (progress on stderr): both wall times and their ratio.
 */
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { Client, Connection } from '@temporalio/client';
import { SimulationResultStore } from '@tally/billing';
import type { BillingRunState, SimulationInput, SimulationProgress } from '@tally/billing-contracts';
import { CatalogStore, deleteBillingBucket, deleteCatalogBuckets } from '@tally/catalog';
import { sql, type EventRow } from '@tally/clickhouse';
import { createTestDatabase } from '@tally/clickhouse/testing';
import { connectNats, deleteStreams, ensureStreams, natsNames } from '@tally/nats';
import { priceUsage, type Plan } from '@tally/pricing';
import {
  randomPrefix,
  startService,
  testNatsAuth,
  testNatsUrl,
  testTemporalAddress,
} from '@tally/testing';
import { numberOption, parseArgs, usage, type OptionSpec } from '../loadgen';
import { PERIOD, PLAN, RUN_AT, seedBillingData, startBenchBillingWorker } from './billing-data';
import { machineInfo } from './process-stats';

const specs = {
  customers: { env: 'BENCH_CUSTOMERS', help: 'customers (default 10000)' },
  'events-per-meter': { env: 'BENCH_EVENTS_PER_METER', help: 'events per customer and meter (default 5)' },
  'page-size': { env: 'BENCH_SIM_PAGE_SIZE', help: 'customers per simulation activity (default 2000)' },
  help: { flag: true, help: 'print this help' },
} satisfies Record<string, OptionSpec>;

const log = (line: string) =>
  process.stderr.write(`[bench:simulate ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** The draft: calls dearer with more free units, tokens with a third tier, storage unchanged, a $5 minimum fee. */
const DRAFT: Plan = {
  ...PLAN,
  charges: [
    { id: 'base', name: 'Platform fee', kind: 'flat', amount: '12' },
    { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.08', freeUnits: '3' },
    {
      id: 'tokens',
      name: 'Tokens',
      kind: 'graduated',
      meter: 'tokens',
      tiers: [
        { upTo: '500', unitPrice: '0.0015' },
        { upTo: '1500', unitPrice: '0.001' },
        { upTo: null, unitPrice: '0.0004' },
      ],
    },
    { id: 'storage', name: 'Peak storage', kind: 'per_unit', meter: 'storage', unitPrice: '1' },
  ],
};

/** Each customer's total under `plan`, recounted from the generated events (not from ClickHouse). */
function recount(rows: readonly EventRow[], plan: Plan): Map<string, string> {
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
        plan,
        usage: { calls: String(u.calls), tokens: u.tokens.toString(), storage: String(u.storage) },
        period: { daysInPeriod: 31, activeDays: 31 },
      }).totalMinor,
    ]),
  );
}

async function main(): Promise<void> {
  const args = parseArgs(specs);
  if (args.help) {
    process.stdout.write(`usage: npm run bench:simulate -- [options]\n${usage(specs)}\n`);
    return;
  }
  const int = { integer: true, min: 1 };
  const customers = numberOption(args, 'customers', 10_000, int);
  const eventsPerMeter = numberOption(args, 'events-per-meter', 5, int);
  const pageSize = numberOption(args, 'page-size', 2000, { ...int, max: 10_000 });

  const names = natsNames(randomPrefix('bench'));
  const nc = await connectNats(testNatsUrl(), 'bench-simulate', testNatsAuth());
  await ensureStreams(nc, names);
  const db = await createTestDatabase();
  const store = await CatalogStore.open(nc, names);
  const connection = await Connection.connect({ address: testTemporalAddress() });
  const client = new Client({ connection });
  const tenant = `bench-${randomUUID().slice(0, 8)}`;
  const taskQueue = randomPrefix('bench');
  let worker: ReturnType<typeof startService> | undefined;
  try {
    const rows = await seedBillingData({ store, db, tenant, customers, eventsPerMeter, log });
    worker = await startBenchBillingWorker({ prefix: names.prefix, database: db.database, taskQueue });

    // ------------------------------------------------ 1. the billing run (the bench:billing defaults)
    log(`billing run: ${customers} customers`);
    const billingStarted = performance.now();
    const run = await client.workflow.start('billingRunWorkflow', {
      taskQueue,
      workflowId: `billing-run/${tenant}`,
      args: [
        {
          tenant,
          at: RUN_AT,
          graceSeconds: 0,
          customersPerChild: 100,
          maxConcurrentChildren: 20,
          pageSize: 2000,
        },
      ],
    });
    const billed = (await run.result()) as BillingRunState;
    const billingSeconds = (performance.now() - billingStarted) / 1000;
    log(`billing run: ${billingSeconds.toFixed(1)} s, ${JSON.stringify(billed.counts)}`);

    // ------------------------------------------------ 2. the simulation, back to back, same worker
    const simulationId = randomUUID();
    const input: SimulationInput = {
      spec: { tenant, periods: [PERIOD], customers: { all: true }, changes: [{ plan: 'pro', draft: DRAFT }] },
      simulationId,
      pageSize,
    };
    const simStarted = performance.now();
    const sim = await client.workflow.start('simulationWorkflow', {
      taskQueue,
      workflowId: `simulation/${tenant}/${simulationId}`,
      args: [input],
    });
    const progress = setInterval(() => {
      sim
        .query<SimulationProgress>('progress')
        .then((p) => log(`simulation: ${p.counts.scanned}/${p.expected}`))
        .catch(() => undefined);
    }, 2_000);
    const done = (await sim.result()) as SimulationProgress;
    clearInterval(progress);
    const simulationSeconds = (performance.now() - simStarted) / 1000;
    log(`simulation: ${simulationSeconds.toFixed(1)} s`);

    // ------------------------------------------------ checks (not measured)
    const results = await new SimulationResultStore(db.client).read(
      tenant,
      simulationId,
      undefined,
      customers + 1,
    );
    const ledger = await db.client.query<{ customer: string; total: string }>(
      sql`SELECT customer, toString(total_minor) AS total FROM ${db.client.table('invoices')} FINAL
          WHERE tenant = ${tenant} AND period = ${PERIOD}`,
      { exactNumbers: true },
    );
    const billedByCustomer = new Map(ledger.map((r) => [r.customer, r.total]));
    const expected = recount(rows, DRAFT);
    let billedWrong = 0;
    let simulatedWrong = 0;
    let fingerprintsDiffer = 0;
    for (const r of results) {
      if (billedByCustomer.get(r.customer) !== r.billedMinor) billedWrong++;
      if (expected.get(r.customer) !== r.simulatedMinor) simulatedWrong++;
      if (r.status !== 'simulated') fingerprintsDiffer++;
    }
    const result = {
      customers,
      events: rows.length,
      invoices: ledger.length,
      billingRunWallSeconds: Math.round(billingSeconds * 10) / 10,
      simulationWallSeconds: Math.round(simulationSeconds * 10) / 10,
      simulationVsBillingRatio: Math.round((simulationSeconds / billingSeconds) * 1000) / 1000,
      simulatedCustomers: results.length,
      counts: done.counts,
      totals: done.totals,
      billedAmountsWrong: billedWrong,
      simulatedAmountsWrong: simulatedWrong,
      fingerprintsDiffer,
      simulationPageSize: pageSize,
      targetSeconds: 10,
      targetMet: simulationSeconds <= 10,
      machine: machineInfo(),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (results.length !== customers || billedWrong || simulatedWrong || fingerprintsDiffer)
      process.exitCode = 1;
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
