import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { BillingMetrics, createBillingActivities, createEchoActivities } from '@tally/activities';
import { AlertDispatcher, AlertStateStore } from '@tally/alerts';
import {
  BillingScheduleSync,
  ClosedPeriodStore,
  CreditGrantStarter,
  ProgressiveMonitor,
  TemporalCreditGrantTrigger,
  TemporalInterimTrigger,
  DeadLetterReplayer,
  billingAdapters,
  createBillingServices,
  RebillNoticeConsumer,
  TemporalRebillTrigger,
} from '@tally/billing';
import { CatalogProjection, CatalogStore } from '@tally/catalog';
import { ClickHouseMetrics, createClickHouse, migrate } from '@tally/clickhouse';
import { connectNats, ensureStreams, NatsHealth, natsNames, reportStreamDrift } from '@tally/nats';
import { createLogger, createMetricsRegistry, startInternalServer } from '@tally/observability';
import { Gauge } from 'prom-client';
import { connectTemporal, TemporalHealth, temporalLogger, workflowBundlerHook, workflowsPath } from '@tally/temporal';
import { loadBillingWorkerConfig } from './billing-worker.config';
import { freeLoopbackPort, sdkMetrics } from './metrics-server';

async function main(): Promise<void> {
  const config = loadBillingWorkerConfig();
  const logger = createLogger('billing-worker', config.logLevel);
  const registry = createMetricsRegistry('billing-worker');
  const sdkMetricsPort = config.sdkMetricsPort || (await freeLoopbackPort());
  // On SIGTERM/SIGINT the worker stops polling, lets in-flight activities finish, and run() returns.
  Runtime.install({
    shutdownSignals: ['SIGTERM', 'SIGINT'],
    logger: temporalLogger(logger),
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: `127.0.0.1:${sdkMetricsPort}`,
          // Prometheus conventions: counters end in _total, durations are seconds with the unit in the name.
          countersTotalSuffix: true,
          unitSuffix: true,
          useSecondsForDurations: true,
        },
      },
    },
  });

  const names = natsNames(config.natsPrefix);
  const nc = await connectNats(config.natsUrl, 'tally-billing-worker', config);
  reportStreamDrift(await ensureStreams(nc, names, config), logger, registry);
  const clickhouse = createClickHouse({
    url: config.clickhouseUrl,
    username: config.clickhouseUser,
    password: config.clickhousePassword,
    database: config.clickhouseDatabase,
    application: 'tally-billing-worker',
    observer: new ClickHouseMetrics(registry),
  });
  await migrate(clickhouse, { logger });
  const onError = (error: unknown) => logger.warn({ err: error }, 'catalog watch problem (retrying)');
  const [catalog, store, closed] = await Promise.all([
    CatalogProjection.open(nc, names, { onError }),
    CatalogStore.open(nc, names),
    ClosedPeriodStore.open(nc, names),
  ]);
  const billing = createBillingServices(
    billingAdapters({ clickhouse, nc, names, catalog, store, closed, logger }),
  );
  const replayer = new DeadLetterReplayer(nc, names, catalog, closed.kv, logger, Date.now, config.eventPartitions);

  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowsPath,
    bundlerOptions: { webpackConfigHook: workflowBundlerHook() },
    activities: {
      ...createEchoActivities({ workerName: 'billing-worker' }),
      ...createBillingActivities({ billing, replayer, metrics: new BillingMetrics(registry) }),
    },
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.maxCachedWorkflows,
  });

  const temporal = await connectTemporal({
    address: config.temporalAddress,
    namespace: config.temporalNamespace,
  });
  const schedules = config.schedules
    ? new BillingScheduleSync(temporal.client, catalog, { ...config, taskQueue: config.taskQueue }, logger)
    : undefined;
  await schedules?.start();
  // Late-event notices from the writers → rebill workflows (acked once Temporal took the signal).
  const notices = new RebillNoticeConsumer(
    nc,
    names,
    new TemporalRebillTrigger(temporal.client, config.taskQueue, {
      quietSeconds: config.rebillQuietSeconds,
      maxWaveSeconds: config.rebillMaxWaveSeconds,
    }),
    logger,
  );
  await notices.start();
  // Progressive billing: open periods that reached a threshold → progressiveBillingWorkflow (interim invoices).
  // Crossings go through the alert path the usage alerts use (one claim per crossing across workers).
  const progressive = new ProgressiveMonitor({
    tenants: () => catalog.listTenants().map((t) => t.id),
    progressive: billing.progressive,
    trigger: new TemporalInterimTrigger(temporal.client, config.taskQueue),
    alerts: new AlertDispatcher(nc, (tenant) => names.alertsSubject(tenant), new AlertStateStore(nc, names), logger, {
      claimTimeoutMs: config.progressiveClaimTimeoutSeconds * 1000,
    }),
    logger,
    intervalMs: config.progressiveIntervalSeconds * 1000,
  });
  progressive.start();
  // Credit grants with an expiry or a recurrence → their creditGrantWorkflow (durable timers).
  const creditGrants = new CreditGrantStarter(
    catalog,
    new TemporalCreditGrantTrigger(temporal.client, config.taskQueue),
    logger,
  );
  await creditGrants.start();

  new Gauge({
    name: 'tally_billing_scheduled_tenants',
    help: 'Tenants this worker keeps an hourly billing-run schedule for (0 with BILLING_SCHEDULES=false)',
    registers: [registry],
    collect() {
      this.set(schedules ? catalog.listTenants().length : 0);
    },
  });

  // /health names its components: the Temporal frontend and this worker's polling, and NATS.
  const checks = [new TemporalHealth(temporal.client, () => worker.getState()), new NatsHealth(nc)];
  const internal = await startInternalServer({
    host: config.internalHost,
    port: config.internalPort,
    registry,
    checks: () => checks,
    extraMetrics: sdkMetrics(registry, `http://127.0.0.1:${sdkMetricsPort}/metrics`),
    logger,
  });
  logger.info(
    { taskQueue: config.taskQueue, internalPort: internal.port, schedules: config.schedules },
    'worker started',
  );

  try {
    await worker.run();
  } finally {
    await internal.close();
    await progressive.stop();
    await creditGrants.stop();
    await notices.stop();
    await schedules?.stop();
    await temporal.close();
    await connection.close();
    await catalog.close();
    await nc.drain();
    await clickhouse.close();
    logger.info('worker stopped');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
