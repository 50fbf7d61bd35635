import { env, infraConfig, loadConfig, natsConnectionConfig } from '@tally/config';

export const gatewayConfigSpec = {
  port: env.port('GATEWAY_PORT', 3000),
  host: env.string('GATEWAY_HOST', '127.0.0.1', 'interface to listen on'),
  internalPort: env.port('GATEWAY_INTERNAL_PORT', 9400, 'internal listener: /metrics and the detailed /health (docs/operations.md#internal-port)'),
  internalHost: infraConfig.internalHost,
  natsPrefix: env.string('TALLY_NATS_PREFIX', 'tally', 'prefix of every stream, subject and bucket'),
  ...natsConnectionConfig,
  eventsMaxBytes: infraConfig.eventsMaxBytes,
  deadLettersMaxBytes: infraConfig.deadLettersMaxBytes,
  eventPartitions: infraConfig.eventPartitions,
  /** `replicas` as `ensureStreams` reads it. */
  replicas: infraConfig.streamReplicas,
  maxBatch: env.int('GATEWAY_MAX_BATCH', 1_000, 1, 10_000, 'most events in one request'),
  bodyLimitBytes: env.int('GATEWAY_BODY_LIMIT_BYTES', 5 * 1024 * 1024, 1024, 100 * 1024 * 1024, 'largest request body (413 above)'),
  maxFutureMs: env.int('GATEWAY_MAX_FUTURE_MS', 5 * 60_000, 0, 86_400_000, 'how far in the future an event may be'),
  billingrailsCustomerProperty: env.string(
    'GATEWAY_BILLINGRAILS_CUSTOMER_PROPERTY',
    'billingrails_account_id',
    'Billingrails property that names the customer',
  ),
  defaultLatenessLimitDays: env.int('TALLY_DEFAULT_LATENESS_DAYS', 35, 1, 3650, 'lateness limit of tenants that set none'),
  defaultRateLimitPerSecond: env.int('TALLY_DEFAULT_RATE_LIMIT', 100_000, 1, 10_000_000, 'events/s per tenant that sets none'),
  pointsSampleBudget: env.int(
    'GATEWAY_POINTS_SAMPLE_BUDGET',
    1_000,
    1,
    10_000_000,
    'data point rows kept per index and window for analytics datasets that declare no sampling',
  ),
  pointsSampleWindowMs: env.int('GATEWAY_POINTS_SAMPLE_WINDOW_MS', 1_000, 10, 86_400_000, 'sampling window'),
  sharedLimits: env.bool(
    'GATEWAY_SHARED_LIMITS',
    true,
    'rate limits shared by all gateways through NATS KV (off: each gateway enforces the whole limit on its own)',
  ),
  liveMs: env.int('GATEWAY_LIVE_MS', 6_000, 300, 600_000, 'a gateway without a heartbeat for this long no longer shares sampling budgets'),
  publishTimeoutMs: env.int('GATEWAY_PUBLISH_TIMEOUT_MS', 5_000, 100, 60_000, 'how long to wait for JetStream to ack'),
  trustProxy: infraConfig.trustProxy,
  logLevel: infraConfig.logLevel,
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = (source = process.env) => loadConfig('gateway', gatewayConfigSpec, source);
