import {
  findDuplicateIdsInBatch,
  normalizeBatch,
  type EventFormat,
  type UsageEvent,
} from '@tally/event-schema';
import {
  ForbiddenError,
  RateLimitedError,
  TallyError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '@tally/errors';
import type { Registry } from 'prom-client';
import { IngestMetrics } from './ingest-metrics';
import type { EventPublisher } from './event-publisher';
import { TenantRateLimiter } from '@tally/nest-kit';
import type { TenantRateLimit } from '@tally/nats';

export type Role = 'ingest' | 'query' | 'admin';

/** Port: API key → tenant and role (hashed keys, cached in memory). */
export interface ApiKeyResolver {
  resolve(key: string): { tenant: string; role: Role } | undefined;
}

export interface TenantLimits {
  latenessLimitDays: number;
  rateLimitPerSecond: number;
}

/** Port: per-tenant ingestion limits, from the catalog. */
export interface TenantLimitsProvider {
  limits(tenant: string): TenantLimits | undefined;
}

export interface IngestRequest {
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
  /** NATS ingress: the tenant named by the subject must be the key's tenant. */
  tenantFromSubject?: string;
  nowMs: number;
  /** The request's id (HTTP `x-request-id` or generated), passed to the writer in a message header. */
  requestId?: string;
}

export interface IngestResponse {
  accepted: number;
  duplicates: number;
  events: { index: number; id: string; duplicate: boolean }[];
}

export interface IngestServiceOptions {
  maxBatch: number;
  maxFutureMs: number;
  billingrailsCustomerProperty: string;
  defaultLimits: TenantLimits;
  /**
   * The tenant's events/s limit; default a bucket in this process. With several gateways pass one that
   * holds across them (`SharedRateLimiter.scope('events')`, docs/scaling.md#several-gateways).
   */
  rateLimit?: TenantRateLimit;
}

export const JSON_CONTENT_TYPES = [
  'application/json',
  'application/cloudevents+json',
  'application/cloudevents-batch+json',
] as const;

const ROLES_ALLOWED_TO_INGEST: ReadonlySet<Role> = new Set(['ingest', 'admin']);

/**
 * The one ingestion path shared by HTTP and NATS: authenticate, rate-limit, validate the whole
 * batch (atomic: any invalid event rejects all), publish, and answer only once JetStream has it.
 */
export class IngestService {
  private readonly rateLimiter: TenantRateLimit;
  private readonly metrics?: IngestMetrics;

  constructor(
    private readonly keys: ApiKeyResolver,
    private readonly tenants: TenantLimitsProvider,
    private readonly publisher: EventPublisher,
    private readonly options: IngestServiceOptions,
    registry?: Registry,
  ) {
    this.metrics = registry && new IngestMetrics(registry);
    this.rateLimiter = options.rateLimit ?? new TenantRateLimiter();
  }

  authenticate(authorization: string | undefined, allowed: ReadonlySet<Role>): { tenant: string; role: Role } {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const principal = match ? this.keys.resolve(match[1]) : undefined;
    if (!principal) throw new UnauthorizedError();
    if (!allowed.has(principal.role)) throw new ForbiddenError(`A '${principal.role}' key cannot send events`);
    return principal;
  }

  async ingest(request: IngestRequest): Promise<IngestResponse> {
    const { tenant } = this.authenticate(request.authorization, ROLES_ALLOWED_TO_INGEST);
    try {
      const response = await this.ingestFor(tenant, request);
      const label = this.metrics?.tenant.value(tenant);
      this.metrics?.accepted.inc({ tenant: label }, response.accepted);
      if (response.duplicates) this.metrics?.duplicates.inc({ tenant: label }, response.duplicates);
      return response;
    } catch (error) {
      if (this.metrics && error instanceof TallyError) {
        const label = this.metrics.tenant.value(tenant);
        if (error.details.length) for (const d of error.details) this.metrics.rejected.inc({ tenant: label, code: d.code });
        else this.metrics.rejected.inc({ tenant: label, code: error.code });
      }
      throw error;
    }
  }

  private async ingestFor(tenant: string, request: IngestRequest): Promise<IngestResponse> {
    if (request.tenantFromSubject !== undefined && request.tenantFromSubject !== tenant) {
      throw new ForbiddenError(`This key belongs to another tenant than '${request.tenantFromSubject}'`);
    }
    const format = formatOf(request.contentType);
    const limits = this.tenants.limits(tenant) ?? this.options.defaultLimits;
    const { events } = normalizeBatch(request.body, format, {
      nowMs: request.nowMs,
      maxFutureMs: this.options.maxFutureMs,
      latenessLimitMs: limits.latenessLimitDays * 86_400_000,
      billingrailsCustomerProperty: this.options.billingrailsCustomerProperty,
      maxBatch: this.options.maxBatch,
    });
    const retryAfter = await this.rateLimiter.take(tenant, events.length, limits.rateLimitPerSecond, request.nowMs);
    if (retryAfter > 0) throw new RateLimitedError(retryAfter);

    const stopTimer = this.metrics?.publishSeconds.startTimer();
    const ack = await this.publisher.publish({ v: 3, tenant, receivedAt: request.nowMs, events }, request.requestId);
    stopTimer?.();
    return answer(events, ack.duplicate);
  }
}

function answer(events: UsageEvent[], wholeBatchDuplicate: boolean): IngestResponse {
  const rows: IngestResponse['events'] = [];
  for (let index = 0; index < events.length; index++) {
    rows.push({ index, id: events[index].id, duplicate: wholeBatchDuplicate });
  }
  if (wholeBatchDuplicate) return { accepted: 0, duplicates: events.length, events: rows };
  const repeatedInBatch = findDuplicateIdsInBatch(events);
  for (const index of repeatedInBatch) rows[index].duplicate = true;
  return {
    accepted: events.length - repeatedInBatch.length,
    duplicates: repeatedInBatch.length,
    events: rows,
  };
}

function formatOf(contentType: string | undefined): EventFormat | 'auto' {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || type === '') return 'auto';
  if (type === 'application/cloudevents+json' || type === 'application/cloudevents-batch+json') return 'cloudevents';
  throw new UnsupportedMediaTypeError(contentType, [...JSON_CONTENT_TYPES]);
}
