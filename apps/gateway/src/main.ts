import 'reflect-metadata';
import { natsNames } from '@tally/nats';
import { NATS_POINTS_ROUTE, NatsIngressStrategy } from '@tally/ingest';
import { createLogger, createMetricsRegistry } from '@tally/observability';
import { startHttpApp } from '@tally/nest-kit';
import { AppModule, connectGatewayDependencies } from './app.module';
import { loadGatewayConfig } from './gateway.config';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', config.logLevel);
  const registry = createMetricsRegistry('gateway');
  const deps = await connectGatewayDependencies(config, logger, registry);
  const names = natsNames(config.natsPrefix);
  await startHttpApp(AppModule.register(config, deps, registry), {
    port: config.port,
    trustProxy: config.trustProxy,
    host: config.host,
    internal: { host: config.internalHost, port: config.internalPort },
    logger,
    registry,
    bodyLimitBytes: config.bodyLimitBytes,
    configure: async (app) => {
      // NATS ingress shares the controller, and so the validation and publish path, with HTTP.
      app.connectMicroservice(
        { strategy: new NatsIngressStrategy(deps.nc, names.ingestSubjectAll, names.ingestQueueGroup, logger) },
        { inheritAppConfig: true },
      );
      app.connectMicroservice(
        {
          strategy: new NatsIngressStrategy(
            deps.nc,
            names.pointsIngestSubjectAll,
            names.ingestQueueGroup,
            logger,
            NATS_POINTS_ROUTE,
          ),
        },
        { inheritAppConfig: true },
      );
      await app.startAllMicroservices();
    },
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
