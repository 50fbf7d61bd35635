import 'reflect-metadata';
import { createLogger, createMetricsRegistry } from '@tally/observability';
import { startHttpApp } from '@tally/nest-kit';
import { AppModule } from './app.module';
import { loadQueryConfig } from './query.config';

async function main(): Promise<void> {
  const config = loadQueryConfig();
  const logger = createLogger('query', config.logLevel);
  const registry = createMetricsRegistry('query');
  await startHttpApp(AppModule.register(config, registry), { port: config.port, host: config.host, logger });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
