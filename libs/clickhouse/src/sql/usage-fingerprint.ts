/**
 * The usage fingerprint an invoice records (see `billing-usage.ts` for the usage itself): built like
 * every builder of this folder, every value through `quote.ts`.
 */
import { identifier, join, sql, type SqlFragment } from './quote';

export interface FingerprintParams {
  database: string;
  tenant: string;
  customers: readonly string[];
  eventTypes: readonly string[];
  from: Date;
  to: Date;
}

export interface FingerprintRow {
  customer: string;
  event_count: string;
  checksum: string;
}

/**
 * The usage fingerprint of each customer: the number of events of the given types in `[from, to)`
 * and the sum of `cityHash64(event_id)` over them (UInt64, wrapping: order-independent, so any later
 * recount from raw events gives the same value exactly when the same events are there).
 */
export function usageFingerprintQuery(p: FingerprintParams): SqlFragment {
  return join(
    [
      sql`SELECT customer, toString(count()) AS event_count, toString(sum(cityHash64(event_id))) AS checksum`,
      sql`FROM ${identifier(p.database, 'events')}`,
      sql`WHERE tenant = ${p.tenant} AND event_type IN (${join(p.eventTypes)}) AND ts >= ${p.from} AND ts < ${p.to} AND customer IN (${join(p.customers)})`,
      sql`GROUP BY customer`,
    ],
    '\n',
  );
}
