import { createServer } from 'node:http';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createEchoActivities } from '@tally/activities';
import { createLogger } from '@tally/observability';
import { workflowBundlerHook, workflowsPath } from '@tally/temporal';
import { loadBillingWorkerConfig } from './billing-worker.config';

async function main(): Promise<void> {
  const config = loadBillingWorkerConfig();
  const logger = createLogger('billing-worker', config.logLevel);
  // The worker's SIGTERM/SIGINT handling lets in-flight activities finish before the process exits.
  Runtime.install({ shutdownSignals: ['SIGTERM', 'SIGINT'] });

  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowsPath,
    bundlerOptions: { webpackConfigHook: workflowBundlerHook() },
    activities: { ...createEchoActivities({ workerName: 'billing-worker' }) },
  });

  const health = createServer((req, res) => {
    const running = worker.getState() === 'RUNNING';
    res.writeHead(req.url === '/health' ? (running ? 200 : 503) : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: running ? 'ok' : worker.getState().toLowerCase(), taskQueue: config.taskQueue }));
  });
  health.listen(config.port, config.host);
  logger.info({ taskQueue: config.taskQueue, port: config.port }, 'worker started');

  try {
    await worker.run();
  } finally {
    health.close();
    await connection.close();
    logger.info('worker stopped');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
