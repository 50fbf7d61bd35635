import { raw } from '../sql/quote';
import type { Migration } from './ddl';

/**
 * Results of price simulations run as workflows (`POST /v1/simulations`): one row per simulation,
 * period and customer, the customer's result as JSON text (billed, simulated and per line). Written by
 * the simulation activity, read by the query API (JSON pages and CSV). Not the ledger: nothing here is
 * billed. A retried activity writes the same rows again, which ReplacingMergeTree on the key collapses
 * (readers use FINAL). Sharded by (tenant, simulation_id): a simulation's rows stay on one shard.
 */
export const migration0008: Migration = {
  version: 8,
  name: 'simulation_results',
  description: 'price simulation results: one row per simulation, period and customer',
  statements: (ddl) =>
    ddl.createTable({
      name: 'simulation_results',
      columns: raw(`
        tenant String,
        simulation_id String,
        period String,
        customer String,
        result String,
        created_at DateTime('UTC')
      `),
      engine: 'ReplacingMergeTree',
      orderBy: raw('(tenant, simulation_id, period, customer)'),
      cluster: { shardingKey: raw('cityHash64(tenant, simulation_id)') },
    }),
};
