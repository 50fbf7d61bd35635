import { createServer } from 'node:http';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createBillingActivities, createEchoActivities } from '@tally/activities';
import {
  BillingScheduleSync,
  ClosedPeriodStore,
  DeadLetterReplayer,
  InvoicingService,
  SubscriptionIndex,
} from '@tally/billing';
import { CatalogCache, CatalogStore } from '@tally/catalog';
import { createClickHouse, migrate } from '@tally/clickhouse';
import { connectNats, ensureStreams, natsNames } from '@tally/nats';
import { createLogger, type Logger } from '@tally/observability';
import { connectTemporal, temporalLogger, workflowBundlerHook, workflowsPath } from '@tally/temporal';
import { loadBillingWorkerConfig, type BillingWorkerConfig } from './billing-worker.config';

async function main(): Promise<void> {
  const config = loadBillingWorkerConfig();
  const logger = createLogger('billing-worker', config.logLevel);
  // On SIGTERM/SIGINT the worker stops polling, lets in-flight activities finish, and run() returns.
  Runtime.install({ shutdownSignals: ['SIGTERM', 'SIGINT'], logger: temporalLogger(logger) });

  const names = natsNames(config.natsPrefix);
  const nc = await connectNats(config.natsUrl, 'tally-billing-worker');
  await ensureStreams(nc, names);
  const clickhouse = createClickHouse({
    url: config.clickhouseUrl,
    username: config.clickhouseUser,
    password: config.clickhousePassword,
    database: config.clickhouseDatabase,
    application: 'tally-billing-worker',
  });
  await migrate(clickhouse, { logger });
  const onError = (error: unknown) => logger.warn({ err: error }, 'catalog watch problem (retrying)');
  const [catalog, store, subscriptions, closed] = await Promise.all([
    CatalogCache.open(nc, names, { onError }),
    CatalogStore.open(nc, names),
    SubscriptionIndex.open(nc, names, onError),
    ClosedPeriodStore.open(nc, names),
  ]);
  const invoicing = new InvoicingService({
    clickhouse,
    nc,
    names,
    catalog,
    store,
    subscriptions,
    closed,
    logger,
    afterLedgerInsert: crashAfterInserts(config, logger),
  });
  const replayer = new DeadLetterReplayer(nc, names, catalog, closed.kv, logger);

  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowsPath,
    bundlerOptions: { webpackConfigHook: workflowBundlerHook() },
    activities: {
      ...createEchoActivities({ workerName: 'billing-worker' }),
      ...createBillingActivities({ invoicing, replayer }),
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

  const health = createServer((req, res) => {
    const running = worker.getState() === 'RUNNING' && !nc.isClosed();
    res.writeHead(req.url === '/health' ? (running ? 200 : 503) : 404, {
      'content-type': 'application/json',
    });
    res.end(
      JSON.stringify({
        status: running ? 'ok' : worker.getState().toLowerCase(),
        taskQueue: config.taskQueue,
      }),
    );
  });
  health.listen(config.port, config.host);
  logger.info(
    { taskQueue: config.taskQueue, port: config.port, schedules: config.schedules },
    'worker started',
  );

  try {
    await worker.run();
  } finally {
    health.close();
    await schedules?.stop();
    await temporal.close();
    await connection.close();
    await Promise.all([catalog.close(), subscriptions.close()]);
    await nc.drain();
    await clickhouse.close();
    logger.info('worker stopped');
  }
}

/** Test-only fault injection: the worst moment to die, invoices stored but the activity not completed. */
function crashAfterInserts(
  config: BillingWorkerConfig,
  logger: Logger,
): ((documents: number) => void) | undefined {
  if (config.crashAfterInvoiceInserts === 0) return undefined;
  let inserts = 0;
  return (documents) => {
    if (documents === 0 || ++inserts < config.crashAfterInvoiceInserts) return;
    logger.warn({ inserts }, 'test fault injection: killing the worker after an invoice insert');
    process.kill(process.pid, 'SIGKILL');
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
