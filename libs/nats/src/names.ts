/**
 * Every stream, subject, consumer and bucket name Tally uses, derived from one prefix so that an
 * integration test (or a second Tally on the same NATS) gets a disjoint set by choosing its own.
 */
export interface NatsNames {
  prefix: string;
  eventsStream: string;
  eventsSubject(tenant: string): string;
  eventsSubjectAll: string;
  /**
   * Where the gateway publishes a tenant's events of one partition (`<prefix>.events.<tenant>.p<n>`,
   * see `eventPartition`): each partition is written by one writer at a time (docs/ingestion.md).
   */
  eventsPartitionSubject(tenant: string, partition: number): string;
  /**
   * What the partition's consumer reads, out of `partitions`. Partition 0 also reads the
   * unpartitioned subjects (`<prefix>.events.<tenant>`) that an older gateway or a dead-letter replay
   * published. With one partition that is the whole stream: one filter (`<prefix>.events.>`), which
   * costs the server least and which every JetStream server accepts (several filter subjects on one
   * consumer need NATS 2.10).
   */
  eventsPartitionFilters(partition: number, partitions: number): string[];
  /**
   * The tenant an events-stream subject names (`<prefix>.events.<tenant>` or
   * `<prefix>.events.<tenant>.p<n>`), undefined for any other subject.
   */
  tenantOfEventsSubject(subject: string): string | undefined;
  /** Every subject a tenant's events may be on: the unpartitioned one and its partitions' (a wildcard). */
  eventsTenantSubjects(tenant: string): string[];
  /** The consumer every writer shared before partitions (removed at start-up by the writer). */
  writerConsumer: string;
  /** The durable consumer of one partition, read by the writer that holds the partition's lease. */
  writerPartitionConsumer(partition: number): string;
  /** Writers' partition leases and heartbeats (NATS KV). */
  writerLeasesBucket: string;
  /** Gateways' shared per-tenant rate limits and heartbeats (NATS KV). */
  gatewayLimitsBucket: string;
  deadLetterStream: string;
  deadLetterSubject(tenant: string): string;
  deadLetterSubjectAll: string;
  ingestSubject(tenant: string): string;
  ingestSubjectAll: string;
  ingestQueueGroup: string;
  /** Analytics Engine data points: NATS ingress (request/reply, served by the gateways' queue group). */
  pointsIngestSubject(tenant: string, dataset: string): string;
  pointsIngestSubjectAll: string;
  /** Accepted data points, one message per request, on their own stream (never mixed with events). */
  pointsStream: string;
  pointsSubject(tenant: string, dataset: string): string;
  pointsSubjectAll: string;
  /** The tenant a points-stream subject names (`<prefix>.datapoints.<tenant>.<dataset>`), undefined otherwise. */
  tenantOfPointsSubject(subject: string): string | undefined;
  pointsWriterConsumer: string;
  /**
   * Late-event notices (writer → billing worker): a durable stream, so that a rebill is never only in
   * a process's memory. One subject per tenant.
   */
  lateEventsStream: string;
  lateEventsSubject(tenant: string): string;
  lateEventsSubjectAll: string;
  /** The billing workers' durable consumer of the notices. */
  rebillConsumer: string;
  alertsSubject(tenant: string): string;
  invoicesSubject(tenant: string): string;
  /** Which usage alerts already fired (one key per rule, customer, period and threshold). */
  alertStateBucket: string;
  catalogBucket: string;
  apiKeysBucket: string;
  /** Billing state in KV: closed periods (read by the writer to spot late events) and dead-letter replays. */
  billingBucket: string;
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
    eventsPartitionSubject: (tenant, partition) => `${prefix}.events.${tenant}.p${partition}`,
    eventsPartitionFilters: (partition, partitions) => {
      if (partitions === 1) return [`${prefix}.events.>`];
      return partition === 0 ? [`${prefix}.events.*.p0`, `${prefix}.events.*`] : [`${prefix}.events.*.p${partition}`];
    },
    tenantOfEventsSubject: (subject) =>
      tokenAfter(subject, `${prefix}.events.`, 1) ?? partitionedTenant(subject, `${prefix}.events.`),
    eventsTenantSubjects: (tenant) => [`${prefix}.events.${tenant}`, `${prefix}.events.${tenant}.*`],
    writerConsumer: `${prefix}_writer`,
    writerPartitionConsumer: (partition) => `${prefix}_writer_p${partition}`,
    writerLeasesBucket: `${prefix}_writer_leases`,
    gatewayLimitsBucket: `${prefix}_gateway_limits`,
    deadLetterStream: `${upper}_DEAD_LETTERS`,
    deadLetterSubject: (tenant) => `${prefix}.dlq.${tenant}`,
    deadLetterSubjectAll: `${prefix}.dlq.>`,
    ingestSubject: (tenant) => `${prefix}.ingest.${tenant}`,
    ingestSubjectAll: `${prefix}.ingest.*`,
    ingestQueueGroup: `${prefix}_gateway`,
    pointsIngestSubject: (tenant, dataset) => `${prefix}.points.${tenant}.${dataset}`,
    pointsIngestSubjectAll: `${prefix}.points.*.*`,
    pointsStream: `${upper}_POINTS`,
    pointsSubject: (tenant, dataset) => `${prefix}.datapoints.${tenant}.${dataset}`,
    pointsSubjectAll: `${prefix}.datapoints.>`,
    tenantOfPointsSubject: (subject) => tokenAfter(subject, `${prefix}.datapoints.`, 2),
    pointsWriterConsumer: `${prefix}_points_writer`,
    lateEventsStream: `${upper}_LATE_EVENTS`,
    lateEventsSubject: (tenant) => `${prefix}.late.${tenant}`,
    lateEventsSubjectAll: `${prefix}.late.>`,
    rebillConsumer: `${prefix}_rebill`,
    alertsSubject: (tenant) => `${prefix}.alerts.${tenant}`,
    invoicesSubject: (tenant) => `${prefix}.invoices.${tenant}`,
    alertStateBucket: `${prefix}_alert_state`,
    catalogBucket: `${prefix}_catalog`,
    apiKeysBucket: `${prefix}_api_keys`,
    billingBucket: `${prefix}_billing`,
  };
}

/** The first token after `head` of a subject that has exactly `tokens` tokens there; undefined otherwise. */
function tokenAfter(subject: string, head: string, tokens: number): string | undefined {
  if (!subject.startsWith(head)) return undefined;
  const rest = subject.slice(head.length).split('.');
  return rest.length === tokens && rest.every((t) => t.length > 0) ? rest[0] : undefined;
}

/** `<tenant>` of `<head><tenant>.p<n>`. */
function partitionedTenant(subject: string, head: string): string | undefined {
  if (!subject.startsWith(head)) return undefined;
  const rest = subject.slice(head.length).split('.');
  return rest.length === 2 && rest[0].length > 0 && /^p\d{1,5}$/.test(rest[1]) ? rest[0] : undefined;
}

/** Tenant ids appear in subjects and keys, so they are restricted to subject-safe tokens. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
