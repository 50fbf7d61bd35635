import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A registry per process with Node's default metrics (RSS, event loop lag, GC), labelled with the
 * service so one Prometheus can scrape every Tally process.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Distinct tenants a process labels its metrics with before it folds the rest into `_other`. */
export const TENANT_LABEL_LIMIT = 500;

/**
 * Keeps a label's set of values bounded: the first `limit` distinct values are used as they are,
 * every later one becomes `overflow`. Each value of a label is a time series in Prometheus (times
 * every other label's values), so a label fed from request data (tenants) must be capped; labels
 * that could take any value (customers, event ids, request ids) are never used at all.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(
    readonly limit: number = TENANT_LABEL_LIMIT,
    readonly overflow = '_other',
  ) {}

  value(v: string): string {
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.limit) return this.overflow;
    this.seen.add(v);
    return v;
  }
}
