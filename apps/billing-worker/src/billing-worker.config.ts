import { env, infraConfig, loadConfig, natsConnectionConfig } from '@tally/config';

export const billingWorkerConfigSpec = {
  /** The worker has no public API: its one listener is the internal one (docs/operations.md#internal-port). */
  internalPort: env.port('BILLING_WORKER_INTERNAL_PORT', 9403, 'internal listener: /metrics and /health (temporal, nats)'),
  internalHost: infraConfig.internalHost,
  sdkMetricsPort: env.port(
    'BILLING_WORKER_SDK_METRICS_PORT',
    0,
    'loopback port of the Temporal SDK metrics exporter, served again on /metrics (0: any free port)',
  ),
  taskQueue: env.string('TALLY_TASK_QUEUE', 'tally-billing', 'Temporal task queue the worker polls'),
  temporalAddress: infraConfig.temporalAddress,
  temporalNamespace: infraConfig.temporalNamespace,
  natsPrefix: env.string('TALLY_NATS_PREFIX', 'tally', 'prefix of every stream, subject and bucket'),
  ...natsConnectionConfig,
  eventsMaxBytes: infraConfig.eventsMaxBytes,
  deadLettersMaxBytes: infraConfig.deadLettersMaxBytes,
  eventPartitions: infraConfig.eventPartitions,
  /** `replicas` as `ensureStreams` reads it. */
  replicas: infraConfig.streamReplicas,
  clickhouseUrl: infraConfig.clickhouseUrl,
  clickhouseUser: infraConfig.clickhouseUser,
  clickhousePassword: infraConfig.clickhousePassword,
  clickhouseDatabase: infraConfig.clickhouseDatabase,
  schedules: env.bool('BILLING_SCHEDULES', true, 'keep one hourly billing-run schedule per tenant'),
  graceSeconds: env.int(
    'BILLING_GRACE_SECONDS',
    3600,
    0,
    30 * 86_400,
    'wait this long after a period ends before closing it',
  ),
  lookbackHours: env.int(
    'BILLING_LOOKBACK_HOURS',
    48,
    1,
    24 * 27,
    'a run bills periods that ended this many hours back',
  ),
  customersPerChild: env.int(
    'BILLING_CUSTOMERS_PER_CHILD',
    1,
    1,
    1000,
    'customers per invoice workflow (1 = one per customer)',
  ),
  maxConcurrentChildren: env.int(
    'BILLING_MAX_CONCURRENT_CHILDREN',
    100,
    1,
    1000,
    'invoice workflows a run keeps going at once',
  ),
  maxConcurrentActivities: env.int(
    'BILLING_MAX_CONCURRENT_ACTIVITIES',
    100,
    1,
    10_000,
    'activities this worker runs at once',
  ),
  maxConcurrentWorkflowTasks: env.int(
    'BILLING_MAX_CONCURRENT_WORKFLOW_TASKS',
    40,
    2,
    1000,
    'workflow tasks this worker runs at once',
  ),
  maxCachedWorkflows: env.int(
    'BILLING_MAX_CACHED_WORKFLOWS',
    1000,
    0,
    100_000,
    'workflows kept in memory between tasks',
  ),
  rebillQuietSeconds: env.int('BILLING_REBILL_QUIET_SECONDS', 300, 0, 86_400, 'a rebill wave ends after this long without late events'),
  rebillMaxWaveSeconds: env.int(
    'BILLING_REBILL_MAX_WAVE_SECONDS',
    3_600,
    1,
    30 * 86_400,
    'a rebill wave that keeps receiving late events is billed after this long',
  ),
  progressiveIntervalSeconds: env.int(
    'BILLING_PROGRESSIVE_INTERVAL_SECONDS',
    60,
    0,
    86_400,
    'how often open periods on plans with progressiveBilling are checked against their thresholds (0: never)',
  ),
  progressiveClaimTimeoutSeconds: env.int(
    'BILLING_PROGRESSIVE_CLAIM_TIMEOUT_SECONDS',
    300,
    1,
    86_400,
    'a threshold alert claimed but not delivered (its worker died, Temporal refused the signal) is delivered again after this long',
  ),
  logLevel: infraConfig.logLevel,
};

export type BillingWorkerConfig = ReturnType<typeof loadBillingWorkerConfig>;
export const loadBillingWorkerConfig = (source = process.env) =>
  loadConfig('billing-worker', billingWorkerConfigSpec, source);
