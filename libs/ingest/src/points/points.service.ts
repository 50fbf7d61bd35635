import { normalizeDataPoints, type DataPointRow } from '@tally/analytics-engine';
import { ForbiddenError, RateLimitedError, TallyError, UnsupportedMediaTypeError } from '@tally/errors';
import { uuidV7 } from '@tally/event-schema';
import type { Registry } from 'prom-client';
import type { IngestService, Role, TenantLimits, TenantLimitsProvider } from '../gateway/ingest.service';
import { TenantRateLimiter } from '@tally/nest-kit';
import type { TenantRateLimit } from '@tally/nats';
import type { DatasetRegistry } from './dataset-registry';
import { DatasetSamplers, type SamplingSettings } from './dataset-samplers';
import { toWirePoint } from './points-message';
import { PointsMetrics } from './points-metrics';
import { pointsRequestId, type PointsPublisher } from './points-publisher';

export interface PointsRequest {
  authorization: string | undefined;
  contentType: string | undefined;
  /** The dataset named by the URL (`/v1/datasets/:name/points`) or the NATS subject. */
  dataset: string;
  body: unknown;
  /** NATS ingress: the tenant named by the subject must be the key's tenant. */
  tenantFromSubject?: string;
  nowMs: number;
}

/**
 * The answer to a request, shaped like the events' answer: `accepted` new points, `duplicates`
 * (a request JetStream already had, or an id repeated within the request), and `kept`: the rows stored
 * for the accepted points once equitable sampling is applied (each stands for its `_sample_interval`).
 */
export interface PointsResponse {
  accepted: number;
  duplicates: number;
  kept: number;
}

export interface PointsServiceOptions {
  maxFutureMs: number;
  defaultLimits: TenantLimits;
  /** Sampling of analytics datasets that declare none. */
  defaultSampling: SamplingSettings;
  /** The tenant's points/s limit; default a bucket in this process (see `IngestServiceOptions.rateLimit`). */
  rateLimit?: TenantRateLimit;
  /**
   * How many gateways split each sampling budget (each keeps budget / n rows per index and window,
   * at least 1); default 1. The gateway passes its live count (`GatewayMembership.count`).
   */
  gateways?: () => number;
}

/** Authenticates like `IngestService` (it holds the key resolver). */
export type PointsAuthenticator = Pick<IngestService, 'authenticate'>;

const ROLES_ALLOWED_TO_WRITE: ReadonlySet<Role> = new Set(['ingest', 'admin']);

/**
 * The one data point path shared by HTTP and NATS: authenticate, validate the whole request
 * (atomic, every issue with the point's index), rate-limit, apply the dataset's declaration (created
 * on first write), drop ids repeated within the request, sample analytics datasets equitably, publish,
 * and answer only once JetStream has the points.
 *
 * Sampling happens here, in the gateway, before publishing: what a loud index would have cost in
 * stream, writer and storage is never spent. Its state is per gateway process, so the budget is split
 * explicitly: with N live gateways each keeps budget / N rows per index and window, and all of them
 * together keep at most the budget. An index whose traffic reaches only some gateways keeps fewer
 * rows than the budget; each row's `_sample_interval` says so, and the estimate stays unbiased.
 */
export class PointsService {
  private readonly rateLimiter: TenantRateLimit;
  private readonly samplers: DatasetSamplers;
  private readonly metrics?: PointsMetrics;

  constructor(
    private readonly auth: PointsAuthenticator,
    private readonly tenants: TenantLimitsProvider,
    private readonly datasets: DatasetRegistry,
    private readonly publisher: PointsPublisher,
    private readonly options: PointsServiceOptions,
    registry?: Registry,
    samplers?: DatasetSamplers,
  ) {
    this.samplers = samplers ?? new DatasetSamplers();
    this.rateLimiter = options.rateLimit ?? new TenantRateLimiter();
    this.metrics = registry && new PointsMetrics(registry);
  }

  async write(request: PointsRequest): Promise<PointsResponse> {
    const { tenant } = this.auth.authenticate(request.authorization, ROLES_ALLOWED_TO_WRITE);
    try {
      const response = await this.writeFor(tenant, request);
      const label = this.metrics?.tenant.value(tenant);
      this.metrics?.accepted.inc({ tenant: label }, response.accepted);
      this.metrics?.kept.inc({ tenant: label }, response.kept);
      if (response.duplicates) this.metrics?.duplicates.inc({ tenant: label }, response.duplicates);
      return response;
    } catch (error) {
      if (this.metrics && error instanceof TallyError) {
        const label = this.metrics.tenant.value(tenant);
        if (error.details.length)
          for (const d of error.details) this.metrics.rejected.inc({ tenant: label, code: d.code });
        else this.metrics.rejected.inc({ tenant: label, code: error.code });
      }
      throw error;
    }
  }

  private async writeFor(tenant: string, request: PointsRequest): Promise<PointsResponse> {
    if (request.tenantFromSubject !== undefined && request.tenantFromSubject !== tenant) {
      throw new ForbiddenError(`This key belongs to another tenant than '${request.tenantFromSubject}'`);
    }
    assertJson(request.contentType);
    const limits = this.tenants.limits(tenant) ?? this.options.defaultLimits;
    const nowMs = request.nowMs;
    const rows = normalizeDataPoints(request.body, {
      dataset: request.dataset,
      nowMs,
      generateId: () => uuidV7(nowMs),
      maxFutureMs: this.options.maxFutureMs,
      latenessLimitMs: limits.latenessLimitDays * 86_400_000,
    });
    const retryAfter = await this.rateLimiter.take(tenant, rows.length, limits.rateLimitPerSecond, nowMs);
    if (retryAfter > 0) throw new RateLimitedError(retryAfter);

    const dataset = await this.datasets.resolve(tenant, request.dataset);
    const unique = firstOfEachId(rows);
    const kept =
      dataset.kind === 'analytics'
        ? this.samplers.sample(
            tenant,
            dataset.name,
            shareOf(dataset.sampling ?? this.options.defaultSampling, this.options.gateways?.() ?? 1),
            unique,
            nowMs,
          )
        : unique;
    const repeated = rows.length - unique.length;
    if (kept.length === 0) return { accepted: unique.length, duplicates: repeated, kept: 0 };

    const stopTimer = this.metrics?.publishSeconds.startTimer();
    const ack = await this.publisher.publish(
      { v: 1, tenant, dataset: dataset.name, receivedAt: nowMs, points: kept.map(toWirePoint) },
      pointsRequestId(tenant, dataset.name, rows, sentPoints(request.body)),
    );
    stopTimer?.();
    return ack.duplicate
      ? { accepted: 0, duplicates: rows.length, kept: 0 }
      : { accepted: unique.length, duplicates: repeated, kept: kept.length };
  }
}

/** The points as sent (the body is an array or `{ points }`: `normalizeDataPoints` checked which). */
function sentPoints(body: unknown): readonly unknown[] {
  return Array.isArray(body) ? body : ((body as { points: unknown[] }).points ?? []);
}

/** A point id repeated within one request is one point sent twice: the first one counts. */
function firstOfEachId(rows: DataPointRow[]): DataPointRow[] {
  const seen = new Set<string>();
  return rows.filter((row) => !seen.has(row.id) && seen.add(row.id));
}

function assertJson(contentType: string | undefined): void {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type !== '' && type !== 'application/json') {
    throw new UnsupportedMediaTypeError(contentType, ['application/json']);
  }
}

/** One gateway's share of a sampling budget when `gateways` split it (at least one row). */
export function shareOf(settings: SamplingSettings, gateways: number): SamplingSettings {
  if (gateways <= 1) return settings;
  return { ...settings, budgetPerIndexPerWindow: Math.max(1, Math.floor(settings.budgetPerIndexPerWindow / gateways)) };
}
