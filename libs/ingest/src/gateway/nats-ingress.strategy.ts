import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { headers as natsHeaders, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { BadRequestError } from '@tally/errors';
import { requestIdOf, toHttpError } from '@tally/nest-kit';
import { isInboxSubject } from '@tally/nats';
import type { Logger } from '@tally/observability';
import { isObservable, lastValueFrom } from 'rxjs';

/** Pattern of the Nest handler that serves NATS ingress requests. */
export const NATS_INGEST_PATTERN = 'tally.ingest';

export interface NatsIngressRequest {
  tenant: string;
  /** For data points (`<prefix>.points.<tenant>.<dataset>`): the dataset named by the subject. */
  dataset?: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
  /** The requester's `X-Request-Id` header when it is a plausible id, a fresh one otherwise. */
  requestId: string;
}

/** What the handler returns: the HTTP status and body the request would have had over HTTP. */
export interface NatsIngressReply {
  status: number;
  body: unknown;
  retryAfterSeconds?: number;
}

/** Which handler serves a subscription, and how its subjects name the tenant (and dataset). */
export interface NatsIngressRoute {
  pattern: string;
  parse(subject: string): Pick<NatsIngressRequest, 'tenant' | 'dataset'>;
}

/** Events: `<prefix>.ingest.<tenant>`. */
export const NATS_EVENTS_ROUTE: NatsIngressRoute = {
  pattern: NATS_INGEST_PATTERN,
  parse: (subject) => ({ tenant: subject.slice(subject.lastIndexOf('.') + 1) }),
};

/**
 * A Nest microservice transport on nats.js v3 (Nest's built-in NATS transport has no JetStream and
 * uses the older client). Requests on `<prefix>.ingest.<tenant>` go, in a queue group so gateways
 * share the load, to the `@MessagePattern(NATS_INGEST_PATTERN)` handler; the reply carries the same
 * JSON body as HTTP plus a `Tally-Status` header with the HTTP status code.
 */
export class NatsIngressStrategy extends Server implements CustomTransportStrategy {
  private subscription?: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly queueGroup: string,
    private readonly log: Logger,
    private readonly route: NatsIngressRoute = NATS_EVENTS_ROUTE,
  ) {
    super();
  }

  listen(callback: () => void): void {
    const handler = this.getHandlerByPattern(this.route.pattern);
    if (!handler) throw new Error(`no @MessagePattern('${this.route.pattern}') handler is registered`);
    this.subscription = this.nc.subscribe(this.subject, {
      queue: this.queueGroup,
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err }, 'NATS ingress subscription failed');
          return;
        }
        // Only a request whose answer goes to an inbox is served: the reply is published with the
        // gateway's (the services') rights, so a reply subject such as `tally.events.<other tenant>`
        // would let any client write to the stream through the gateway. A message without a reply
        // cannot learn whether it was accepted, so it is refused as well rather than half-served.
        if (!isInboxSubject(msg.reply)) {
          this.log.warn({ subject: msg.subject, reply: msg.reply ?? null }, 'NATS ingress request without an inbox reply subject refused');
          return;
        }
        void (async () => {
          let status = 202;
          let body: unknown;
          let retryAfterSeconds: number | undefined;
          try {
            const text = msg.data.length ? msg.string() : '';
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              throw new BadRequestError('MALFORMED_JSON', 'Request body is not valid JSON');
            }
            const request: NatsIngressRequest = {
              ...this.route.parse(msg.subject),
              authorization: msg.headers?.get('Authorization') || undefined,
              contentType: msg.headers?.get('Content-Type') || undefined,
              body: parsed,
              requestId: requestIdOf(msg.headers?.get('X-Request-Id') || undefined),
            };
            const result: unknown = await handler(request);
            const reply = (isObservable(result) ? await lastValueFrom(result) : result) as NatsIngressReply;
            status = reply.status;
            body = reply.body;
            retryAfterSeconds = reply.retryAfterSeconds;
          } catch (error) {
            const mapped = toHttpError(error);
            status = mapped.status;
            body = mapped.body;
            retryAfterSeconds = mapped.retryAfterSeconds;
            if (status >= 500) this.log.error({ err: error }, 'NATS ingress request failed');
          }
          const h = natsHeaders();
          h.set('Tally-Status', String(status));
          if (retryAfterSeconds !== undefined) h.set('Retry-After', String(Math.ceil(retryAfterSeconds)));
          msg.respond(JSON.stringify(body), { headers: h });
        })();
      },
    });
    callback();
  }

  close(): void {
    this.subscription?.unsubscribe();
  }

  on(): void {
    /* no transport events to expose */
  }

  unwrap<T>(): T {
    return this.nc as T;
  }
}
