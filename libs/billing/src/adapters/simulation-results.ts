import type { CustomerSimulation } from '@tally/billing-contracts';
import { raw, sql, type ClickHouse } from '@tally/clickhouse';
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
    const from =
      after === undefined
        ? sql``
        : sql` AND (period > ${after.period} OR (period = ${after.period} AND customer > ${after.customer}))`;
    const rows = await this.ch.query<{ result: string }>(
      sql`SELECT result FROM ${this.ch.table('simulation_results')} FINAL
          WHERE tenant = ${tenant} AND simulation_id = ${simulationId}${from}
          ORDER BY period, customer LIMIT ${raw(String(Math.max(1, Math.floor(limit))))}`,
      { operation: 'read simulation results' },
    );
    return rows.map((r) => JSON.parse(r.result) as CustomerSimulation);
  }
}
