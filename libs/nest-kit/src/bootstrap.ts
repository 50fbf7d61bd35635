import 'reflect-metadata';
import { type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from '@tally/observability';
import type { Registry } from 'prom-client';
import { registerBodyParsers } from './body-parser';
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
  await options.configure?.(app);
  await app.listen(options.port, options.host ?? '127.0.0.1');
  options.logger.info({ url: await app.getUrl() }, 'listening');
  return app;
}

export type { INestApplication, NestFastifyApplication };
