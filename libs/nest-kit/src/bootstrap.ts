import 'reflect-metadata';
import { type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { startInternalServer, type HealthCheck, type InternalServer, type Logger } from '@tally/observability';
import type { Registry } from 'prom-client';
import { registerBodyParsers } from './body-parser';
import { HEALTH_CHECKS, METRICS_REGISTRY } from './health';
import { genRequestId, registerHttpObservability } from './http-observability';
import { TallyExceptionFilter } from './tally-exception.filter';

export interface HttpAppOptions {
  port: number;
  host?: string;
  logger: Logger;
  /** Largest accepted request body; Fastify answers 413 above it. */
  bodyLimitBytes?: number;
  /** Longest decoded path parameter (Fastify's default is 100; customer ids may have 256 characters). */
  maxParamLength?: number;
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
  /** Where the HTTP request metrics go (`tally_http_request_duration_seconds`); none without it. */
  registry?: Registry;
  /**
   * Believe `X-Forwarded-For` / `-Proto` / `-Host` (only behind a proxy that sets them; off by default,
   * or any client could claim any address). `TALLY_TRUST_PROXY` in every service's config.
   */
  trustProxy?: boolean;
  /**
   * The internal listener (`/metrics`, detailed `/health`; docs/operations.md#internal-port):
   * `TALLY_INTERNAL_HOST` and `<APP>_INTERNAL_PORT` in every service's config. It serves the
   * `HealthModule`'s checks and registry (or `registry` above). None without it.
   */
  internal?: { host: string; port: number };
}

const internalServers = new WeakMap<object, InternalServer>();

/** The internal listener `startHttpApp` started for `app` (its bound port when configured with 0). */
export function internalServerOf(app: object): InternalServer | undefined {
  return internalServers.get(app);
}

/** Nest's own log lines go through pino too, so a process writes one log format. */
export function nestLogger(logger: Logger): LoggerService {
  return {
    log: (message: unknown, context?: string) => logger.info({ context }, String(message)),
    error: (message: unknown, trace?: string, context?: string) => logger.error({ context, trace }, String(message)),
    warn: (message: unknown, context?: string) => logger.warn({ context }, String(message)),
    debug: (message: unknown, context?: string) => logger.debug({ context }, String(message)),
    verbose: (message: unknown, context?: string) => logger.trace({ context }, String(message)),
  };
}

/**
 * Creates a Nest app on Fastify with Tally's error mapping, listens, and closes cleanly on SIGTERM
 * and SIGINT (Nest's shutdown hooks drain connections and call each module's onModuleDestroy).
 */
export async function startHttpApp(rootModule: unknown, options: HttpAppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    routerOptions: { maxParamLength: options.maxParamLength ?? 100 },
    trustProxy: options.trustProxy ?? false,
    genReqId: genRequestId,
  });
  const app = await NestFactory.create<NestFastifyApplication>(rootModule as never, adapter, {
    logger: nestLogger(options.logger),
    bufferLogs: false,
    // Tally's own parser (below) replaces Nest's, so every body error has Tally's error shape.
    bodyParser: false,
  });
  registerBodyParsers(adapter.getInstance());
  registerHttpObservability(adapter.getInstance(), options.registry, options.logger);
  app.useGlobalFilters(new TallyExceptionFilter(options.logger));
  app.enableShutdownHooks();
  let internal: InternalServer | undefined;
  // Closed with the public server (Nest's shutdown hooks close Fastify, which runs onClose).
  adapter.getInstance().addHook('onClose', async () => internal?.close());
  await options.configure?.(app);
  await app.listen(options.port, options.host ?? '127.0.0.1');
  options.logger.info({ url: await app.getUrl() }, 'listening');
  if (options.internal) {
    const checks = optional<HealthCheck[]>(app, HEALTH_CHECKS) ?? [];
    const registry = options.registry ?? optional<Registry>(app, METRICS_REGISTRY);
    if (!registry) throw new Error('startHttpApp: the internal listener needs a registry (options.registry or HealthModule)');
    internal = await startInternalServer({ ...options.internal, registry, checks: () => checks, logger: options.logger });
    internalServers.set(app, internal);
  }
  return app;
}

function optional<T>(app: NestFastifyApplication, token: symbol): T | undefined {
  try {
    return app.get<T>(token, { strict: false });
  } catch {
    return undefined;
  }
}

export type { INestApplication, NestFastifyApplication };
