import { BoundedLabel } from '@tally/observability';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ClickHouseObserver } from './client';
import type { ClickHouseError, ClickHouseErrorCode } from './errors';

const ERROR_CODES: readonly ClickHouseErrorCode[] = ['CLICKHOUSE_UNAVAILABLE', 'CLICKHOUSE_QUERY_FAILED'];

/**
 * SQL metrics of one process: request duration by operation (`insert events`, `meter query`: names
 * the code gives its requests, a bounded set) and failures by operation and Tally error code
 * (`CLICKHOUSE_UNAVAILABLE` or `CLICKHOUSE_QUERY_FAILED`).
 */
export class ClickHouseMetrics implements ClickHouseObserver {
  private readonly duration: Histogram<'operation'>;
  private readonly errors: Counter<'operation' | 'code'>;
  /** Operations are names in code, so this cap is only a guard. */
  private readonly operations = new BoundedLabel(100, 'other');
  private readonly seen = new Set<string>();

  constructor(registry: Registry) {
    // One registry may serve several clients (the query service's own user and its tenants' reader):
    // they share the series, told apart by operation, instead of failing boot on a second registration.
    this.duration = registered(
      registry,
      'tally_sql_query_duration_seconds',
      () =>
        new Histogram({
          name: 'tally_sql_query_duration_seconds',
          help: 'ClickHouse requests by operation, failed ones included',
          labelNames: ['operation'],
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers: [registry],
        }),
    );
    this.errors = registered(
      registry,
      'tally_sql_query_errors_total',
      () =>
        new Counter({
          name: 'tally_sql_query_errors_total',
          help: 'ClickHouse requests that failed, by operation and error code',
          labelNames: ['operation', 'code'],
          registers: [registry],
        }),
    );
  }

  observe(operation: string, seconds: number, error?: ClickHouseError): void {
    const label = this.label(operation);
    this.duration.observe({ operation: label }, seconds);
    if (error) this.errors.inc({ operation: label, code: error.code });
  }

  private label(operation: string): string {
    // Migrations name their statements (`migrate: 0003_rollups`): one label for all of them.
    const name = operation.startsWith('migrat') ? 'migrate' : operation;
    if (!this.seen.has(name)) {
      this.seen.add(name);
      const label = this.operations.value(name);
      // Error series exist from the first request on, so rates and ratios over them are 0, not absent.
      for (const code of ERROR_CODES) this.errors.inc({ operation: label, code }, 0);
    }
    return this.operations.value(name);
  }
}

/** The metric `name` already in `registry` (another client's), else the one `create` registers. */
function registered<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}
