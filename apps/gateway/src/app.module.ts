import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ApiKeyStore, CatalogProjection, CatalogStore } from '@tally/catalog';
import {
  CatalogDatasetRegistry,
  EventsController,
  IngestService,
  JetStreamEventPublisher,
  JetStreamPointsPublisher,
  PointsController,
  PointsService,
} from '@tally/ingest';
import {
  connectNats,
  ensureStreams,
  GatewayMembership,
  natsNames,
  NatsHealth,
  reportStreamDrift,
  SharedRateLimiter,
  watchStreams,
  type NatsConnection,
} from '@tally/nats';
import { TenantRateLimiter } from '@tally/nest-kit';
import type { Logger } from '@tally/observability';
import { HealthModule } from '@tally/nest-kit';
import type { Registry } from 'prom-client';
import type { GatewayConfig } from './gateway.config';

export interface GatewayDependencies {
  nc: NatsConnection;
  keys: ApiKeyStore;
  catalog: CatalogProjection;
  /** Creates Analytics Engine datasets on their first data point. */
  store: CatalogStore;
  /** Live gateways: sampling budgets are split by it (docs/scaling.md#several-gateways). */
  membership: GatewayMembership;
  /** Per-tenant limits shared by every gateway; absent with GATEWAY_SHARED_LIMITS=false. */
  limits?: SharedRateLimiter;
}

export async function connectGatewayDependencies(config: GatewayConfig, logger: Logger, registry: Registry): Promise<GatewayDependencies> {
  const names = natsNames(config.natsPrefix);
  const nc = await connectNats(config.natsUrl, 'tally-gateway', config);
  reportStreamDrift(await ensureStreams(nc, names, config), logger, registry);
  const [keys, catalog, store] = await Promise.all([
    ApiKeyStore.open(nc, names),
    CatalogProjection.open(nc, names),
    CatalogStore.open(nc, names),
  ]);
  const membership = await GatewayMembership.start(nc, names, config.replicas, { liveMs: config.liveMs });
  // While the shared bucket is unreachable, each gateway enforces its share of the limit on its own.
  const limits = config.sharedLimits
    ? await SharedRateLimiter.open(nc, names, config.replicas, () => splitLimit(new TenantRateLimiter(), membership))
    : undefined;
  return { nc, keys, catalog, store, membership, limits };
}

/** A local bucket at rate / live gateways. */
function splitLimit(local: TenantRateLimiter, membership: GatewayMembership) {
  return {
    take: (tenant: string, cost: number, rate: number, nowMs: number) =>
      local.take(tenant, cost, Math.max(1, Math.floor(rate / membership.count())), nowMs),
  };
}

class GatewayRuntime implements OnApplicationShutdown {
  constructor(private readonly deps: GatewayDependencies) {}

  async onApplicationShutdown(): Promise<void> {
    await this.deps.membership.stop();
    await this.deps.keys.close();
    await this.deps.catalog.close();
    await this.deps.nc.drain();
  }
}

@Module({})
export class AppModule {
  static register(config: GatewayConfig, deps: GatewayDependencies, registry: Registry): DynamicModule {
    const names = natsNames(config.natsPrefix);
    // The gateway reports stream fullness: it is what refuses events once a stream is full.
    watchStreams(deps.nc, [names.eventsStream, names.pointsStream, names.deadLetterStream, names.lateEventsStream], registry);
    const ingest = new IngestService(
      deps.keys,
      {
        limits: (tenant) => {
          const t = deps.catalog.getTenant(tenant);
          return t && { latenessLimitDays: t.latenessLimitDays, rateLimitPerSecond: t.rateLimitPerSecond };
        },
      },
      new JetStreamEventPublisher(deps.nc, names, config.publishTimeoutMs, config.eventPartitions),
      {
        maxBatch: config.maxBatch,
        maxFutureMs: config.maxFutureMs,
        billingrailsCustomerProperty: config.billingrailsCustomerProperty,
        defaultLimits: {
          latenessLimitDays: config.defaultLatenessLimitDays,
          rateLimitPerSecond: config.defaultRateLimitPerSecond,
        },
        rateLimit: deps.limits?.scope('events'),
      },
      registry,
    );
    const points = new PointsService(
      ingest,
      {
        limits: (tenant) => {
          const t = deps.catalog.getTenant(tenant);
          return t && { latenessLimitDays: t.latenessLimitDays, rateLimitPerSecond: t.rateLimitPerSecond };
        },
      },
      new CatalogDatasetRegistry(deps.catalog, deps.store),
      new JetStreamPointsPublisher(deps.nc, names, config.publishTimeoutMs),
      {
        maxFutureMs: config.maxFutureMs,
        defaultLimits: {
          latenessLimitDays: config.defaultLatenessLimitDays,
          rateLimitPerSecond: config.defaultRateLimitPerSecond,
        },
        defaultSampling: {
          budgetPerIndexPerWindow: config.pointsSampleBudget,
          windowMs: config.pointsSampleWindowMs,
        },
        rateLimit: deps.limits?.scope('points'),
        gateways: () => deps.membership.count(),
      },
      registry,
    );
    return {
      module: AppModule,
      imports: [HealthModule.register(registry, () => [new NatsHealth(deps.nc)])],
      controllers: [EventsController, PointsController],
      providers: [
        { provide: IngestService, useValue: ingest },
        { provide: PointsService, useValue: points },
        { provide: GatewayRuntime, useFactory: () => new GatewayRuntime(deps) },
      ],
    };
  }
}
