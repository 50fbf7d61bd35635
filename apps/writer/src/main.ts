import 'reflect-metadata';
import { createLogger, createMetricsRegistry } from '@tally/observability';
import { startHttpApp } from '@tally/nest-kit';
import { AppModule, connectWriterDependencies } from './app.module';
import { loadWriterConfig } from './writer.config';

async function main(): Promise<void> {
  const config = loadWriterConfig();
  const logger = createLogger('writer', config.logLevel);
  const registry = createMetricsRegistry('writer');
  const deps = await connectWriterDependencies(config, logger);
  await startHttpApp(AppModule.register(config, deps, registry, logger), { port: config.port, host: config.host, logger });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
