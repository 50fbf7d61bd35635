import { Registry } from 'prom-client';
import { ClickHouseMetrics } from './metrics';

describe('ClickHouseMetrics', () => {
  it('lets two clients of one process share a registry: both count into the same series', async () => {
    const registry = new Registry();
    // The query service observes its own user and its tenants' reader user on one registry.
    const service = new ClickHouseMetrics(registry);
    const reader = new ClickHouseMetrics(registry);
    service.observe('meter query', 0.02);
    reader.observe('sql api', 0.2);
    reader.observe('sql api', 0.3);
    const text = await registry.metrics();
    expect(text).toContain('tally_sql_query_duration_seconds_count{operation="meter query"} 1');
    expect(text).toContain('tally_sql_query_duration_seconds_count{operation="sql api"} 2');
    expect(text.match(/^# TYPE tally_sql_query_duration_seconds histogram$/gm)).toHaveLength(1);
  });
});
