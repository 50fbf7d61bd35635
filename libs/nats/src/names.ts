/**
 * Every stream, subject, consumer and bucket name Tally uses, derived from one prefix so that an
 * integration test (or a second Tally on the same NATS) gets a disjoint set by choosing its own.
 */
export interface NatsNames {
  prefix: string;
  eventsStream: string;
  eventsSubject(tenant: string): string;
  eventsSubjectAll: string;
  writerConsumer: string;
  deadLetterStream: string;
  deadLetterSubject(tenant: string): string;
  deadLetterSubjectAll: string;
  ingestSubject(tenant: string): string;
  ingestSubjectAll: string;
  ingestQueueGroup: string;
  alertsSubject(tenant: string): string;
  invoicesSubject(tenant: string): string;
  /** Which usage alerts already fired (one key per rule, customer, period and threshold). */
  alertStateBucket: string;
  catalogBucket: string;
  apiKeysBucket: string;
}

const PREFIX = /^[a-z][a-z0-9_]{0,31}$/;

export function natsNames(prefix = 'tally'): NatsNames {
  if (!PREFIX.test(prefix)) throw new Error(`NATS prefix '${prefix}' must match ${PREFIX}`);
  const upper = prefix.toUpperCase();
  return {
    prefix,
    eventsStream: `${upper}_EVENTS`,
    eventsSubject: (tenant) => `${prefix}.events.${tenant}`,
    eventsSubjectAll: `${prefix}.events.>`,
    writerConsumer: `${prefix}_writer`,
    deadLetterStream: `${upper}_DEAD_LETTERS`,
    deadLetterSubject: (tenant) => `${prefix}.dlq.${tenant}`,
    deadLetterSubjectAll: `${prefix}.dlq.>`,
    ingestSubject: (tenant) => `${prefix}.ingest.${tenant}`,
    ingestSubjectAll: `${prefix}.ingest.*`,
    ingestQueueGroup: `${prefix}_gateway`,
    alertsSubject: (tenant) => `${prefix}.alerts.${tenant}`,
    invoicesSubject: (tenant) => `${prefix}.invoices.${tenant}`,
    alertStateBucket: `${prefix}_alert_state`,
    catalogBucket: `${prefix}_catalog`,
    apiKeysBucket: `${prefix}_api_keys`,
  };
}

/** Tenant ids appear in subjects and keys, so they are restricted to subject-safe tokens. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
