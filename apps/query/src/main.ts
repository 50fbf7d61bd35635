import 'reflect-metadata';
import { createLogger, createMetricsRegistry } from '@tally/observability';
import { startHttpApp } from '@tally/nest-kit';
import { AppModule, connectQueryDependencies } from './app.module';
import { setUpOpenApi } from './openapi';
import { loadQueryConfig } from './query.config';

/** Fastify limits decoded path parameters (100 by default); customer ids may have 256 characters. */
const MAX_PARAM_LENGTH = 1024;

async function main(): Promise<void> {
  const config = loadQueryConfig();
  const logger = createLogger('query', config.logLevel);
  const registry = createMetricsRegistry('query');
  const deps = await connectQueryDependencies(config, logger, registry);
  await startHttpApp(AppModule.register(deps, registry), {
    port: config.port,
    trustProxy: config.trustProxy,
    host: config.host,
    internal: { host: config.internalHost, port: config.internalPort },
    logger,
    registry,
    bodyLimitBytes: config.bodyLimitBytes,
    maxParamLength: MAX_PARAM_LENGTH,
    configure: (app) => {
      if (config.docs) setUpOpenApi(app);
    },
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
