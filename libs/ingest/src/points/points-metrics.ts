import { BoundedLabel } from '@tally/observability';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Gateway metrics of the data point path; `kept / accepted` per tenant is the sampling rate. */
export class PointsMetrics {
  readonly accepted: Counter<'tenant'>;
  readonly kept: Counter<'tenant'>;
  readonly duplicates: Counter<'tenant'>;
  readonly rejected: Counter<'tenant' | 'code'>;
  readonly publishSeconds: Histogram;
  /** The tenant label, capped (see docs/operations.md). */
  readonly tenant = new BoundedLabel();

  constructor(registry: Registry) {
    this.accepted = new Counter({
      name: 'tally_gateway_points_accepted_total',
      help: 'Data points accepted (each counted once, sampled or not)',
      labelNames: ['tenant'],
      registers: [registry],
    });
    this.kept = new Counter({
      name: 'tally_gateway_points_kept_total',
      help: 'Rows published for the accepted data points after equitable sampling',
      labelNames: ['tenant'],
      registers: [registry],
    });
    this.duplicates = new Counter({
      name: 'tally_gateway_points_duplicate_total',
      help: 'Data points recognised as already accepted',
      labelNames: ['tenant'],
      registers: [registry],
    });
    this.rejected = new Counter({
      name: 'tally_gateway_points_rejected_total',
      help: 'Data points or requests rejected, by error code',
      labelNames: ['tenant', 'code'],
      registers: [registry],
    });
    this.publishSeconds = new Histogram({
      name: 'tally_gateway_points_publish_seconds',
      help: 'Time from publish to JetStream ack, data points',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
  }
}
