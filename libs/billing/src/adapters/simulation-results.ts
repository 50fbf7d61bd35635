import type { CustomerSimulation } from '@tally/billing-contracts';
import { simulationResultsPageQuery, type ClickHouse } from '@tally/clickhouse';
import type { SimulationResultsPort } from '../core/ports';

/**
 * Simulation results in ClickHouse (`simulation_results`, migration 0008): one row per simulation,
 * period and customer. A retried page writes identical rows, which the ReplacingMergeTree collapses;
 * reads use FINAL.
 */
export class SimulationResultStore implements SimulationResultsPort {
  constructor(
    private readonly ch: ClickHouse,
    private readonly clock: () => number = Date.now,
  ) {}

  async insert(tenant: string, simulationId: string, results: readonly CustomerSimulation[]): Promise<void> {
    if (results.length === 0) return;
    const createdAt = Math.floor(this.clock() / 1000);
    const lines = results.map((r) =>
      JSON.stringify({
        tenant,
        simulation_id: simulationId,
        period: r.period,
        customer: r.customer,
        result: JSON.stringify(r),
        created_at: createdAt,
      }),
    );
    await this.ch.insertJsonEachRow(
      this.ch.table('simulation_results'),
      ['tenant', 'simulation_id', 'period', 'customer', 'result', 'created_at'],
      lines.join('\n'),
      { operation: 'insert simulation results' },
    );
  }

  async read(
    tenant: string,
    simulationId: string,
    after: { period: string; customer: string } | undefined,
    limit: number,
  ): Promise<CustomerSimulation[]> {
    const query = simulationResultsPageQuery({ database: this.ch.database, tenant, simulationId, after, limit });
    const rows = await this.ch.query<{ result: string }>(query, { operation: 'read simulation results' });
    return rows.map((r) => JSON.parse(r.result) as CustomerSimulation);
  }
}
