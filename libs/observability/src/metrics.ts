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
