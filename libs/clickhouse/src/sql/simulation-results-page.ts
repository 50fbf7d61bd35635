import { identifier, raw, sql, type SqlFragment } from './quote';

export interface SimulationResultsPageParams {
  database: string;
  tenant: string;
  simulationId: string;
  /** The page starts after this (period, customer) (exclusive); undefined: from the first. */
  after?: { period: string; customer: string };
  /** Page size (at least 1, whole). */
  limit: number;
}

/**
 * One page of a simulation's results (`simulation_results`, migration `0008`, a ReplacingMergeTree read
 * with FINAL), in (period, customer) order: one `result` JSON text per row.
 */
export function simulationResultsPageQuery(p: SimulationResultsPageParams): SqlFragment {
  const from =
    p.after === undefined
      ? sql``
      : sql` AND (period > ${p.after.period} OR (period = ${p.after.period} AND customer > ${p.after.customer}))`;
  // The line breaks and indentation are those of the statement before it moved here (same text).
  return sql`SELECT result FROM ${identifier(p.database, 'simulation_results')} FINAL
          WHERE tenant = ${p.tenant} AND simulation_id = ${p.simulationId}${from}
          ORDER BY period, customer LIMIT ${raw(String(Math.max(1, Math.floor(p.limit))))}`;
}
