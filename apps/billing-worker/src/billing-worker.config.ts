import { env, infraConfig, loadConfig } from '@tally/config';

export const billingWorkerConfigSpec = {
  port: env.port('BILLING_WORKER_PORT', 3003, 'health endpoint port'),
  host: env.string('BILLING_WORKER_HOST', '127.0.0.1', 'interface of the health endpoint'),
  taskQueue: env.string('TALLY_TASK_QUEUE', 'tally-billing', 'Temporal task queue the worker polls'),
  temporalAddress: infraConfig.temporalAddress,
  temporalNamespace: infraConfig.temporalNamespace,
  natsPrefix: env.string('TALLY_NATS_PREFIX', 'tally', 'prefix of every stream, subject and bucket'),
  natsUrl: infraConfig.natsUrl,
  clickhouseUrl: infraConfig.clickhouseUrl,
  clickhouseUser: infraConfig.clickhouseUser,
  clickhousePassword: infraConfig.clickhousePassword,
  clickhouseDatabase: infraConfig.clickhouseDatabase,
  logLevel: infraConfig.logLevel,
};

export type BillingWorkerConfig = ReturnType<typeof loadBillingWorkerConfig>;
export const loadBillingWorkerConfig = (source = process.env) =>
  loadConfig('billing-worker', billingWorkerConfigSpec, source);
