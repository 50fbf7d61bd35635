import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '@tally/observability';
import { Histogram, type Registry } from 'prom-client';

/** The header a request id travels in, on HTTP requests and responses. */
export const REQUEST_ID_HEADER = 'x-request-id';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * A request's id: the caller's `x-request-id` when it is a plausible id (printable, at most 128
 * characters, so a log line cannot be bloated or split by it), a fresh UUID otherwise.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && CLIENT_REQUEST_ID.test(value) ? value : randomUUID();
}

/** Fastify's `genReqId`: `request.id` is the request id. */
export const genRequestId = (req: IncomingMessage): string => requestIdOf(req.headers[REQUEST_ID_HEADER]);

/**
 * Request metrics by route template (`/v1/customers/:id`, never the URL itself: ids in paths would
 * make a series per customer), method and status class; the request id echoed on every answer; at
 * log level `debug`, one access log line per request with its id.
 * Requests that match no route count as `route="unmatched"`.
 */
export function registerHttpObservability(
  fastify: FastifyInstance,
  registry: Registry | undefined,
  logger: Logger,
): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  if (logger.isLevelEnabled('debug')) {
    fastify.addHook('onResponse', (request, reply, done) => {
      logger.debug(
        {
          requestId: request.id,
          method: request.method,
          url: request.url,
          status: reply.statusCode,
          ms: reply.elapsedTime,
        },
        'request',
      );
      done();
    });
  }
  if (!registry) return;
  const duration = new Histogram({
    name: 'tally_http_request_duration_seconds',
    help: 'HTTP requests by route template, method and status class (_count is the request count)',
    labelNames: ['method', 'route', 'status_class'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_class: `${Math.floor(reply.statusCode / 100)}xx`,
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
}
