import { BoundedLabel } from '@tally/observability';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Gateway metrics. accepted / (accepted + rejected) per tenant is the data quality score: the share
 * of events that passed validation without correction.
 */
export class IngestMetrics {
  readonly accepted: Counter<'tenant'>;
  readonly duplicates: Counter<'tenant'>;
  readonly rejected: Counter<'tenant' | 'code'>;
  readonly publishSeconds: Histogram;
  /** The tenant label, capped (see docs/operations.md). */
  readonly tenant = new BoundedLabel();

  constructor(registry: Registry) {
    this.accepted = new Counter({
      name: 'tally_gateway_events_accepted_total',
      help: 'Events accepted (durable in JetStream)',
      labelNames: ['tenant'],
      registers: [registry],
    });
    this.duplicates = new Counter({
      name: 'tally_gateway_events_duplicate_total',
      help: 'Events recognised as already accepted',
      labelNames: ['tenant'],
      registers: [registry],
    });
    this.rejected = new Counter({
      name: 'tally_gateway_events_rejected_total',
      help: 'Events or requests rejected, by error code',
      labelNames: ['tenant', 'code'],
      registers: [registry],
    });
    this.publishSeconds = new Histogram({
      name: 'tally_gateway_publish_seconds',
      help: 'Time from publish to JetStream ack',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
  }
}
