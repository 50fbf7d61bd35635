import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { createLogger, createMetricsRegistry } from '@tally/observability';
import { startHttpApp } from '@tally/nest-kit';
import { AppModule, connectWriterDependencies } from './app.module';
import { loadWriterConfig } from './writer.config';

async function main(): Promise<void> {
  const config = loadWriterConfig();
  // The writer's garbage is whole batches; by default V8 lets the heap reach about three times what
  // is live before a full GC (measured: 75 MB live, 460 MB RSS under a backlog). A smaller growing
  // factor keeps RSS near the working set for some more GC work. Read at each GC, so settable here.
  if (config.heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
  const logger = createLogger('writer', config.logLevel);
  const registry = createMetricsRegistry('writer');
  const deps = await connectWriterDependencies(config, logger);
  await startHttpApp(AppModule.register(config, deps, registry, logger), { port: config.port, host: config.host, logger });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
