import type { ClickHouse } from '@tally/clickhouse';
import type { UsageSourcePort } from '../core/ports';
import {
  billingUsageQuery,
  usageFingerprintQuery,
  type BillingUsageParams,
  type BillingUsageRow,
  type FingerprintParams,
  type FingerprintRow,
} from '@tally/clickhouse';

/** The invoice queries, run on the ClickHouse database that holds `events`. */
export class ClickHouseUsageSource implements UsageSourcePort {
  constructor(private readonly clickhouse: ClickHouse) {}

  usage(params: Omit<BillingUsageParams, 'database'>): Promise<BillingUsageRow[]> {
    return this.clickhouse.query<BillingUsageRow>(
      billingUsageQuery({ ...params, database: this.clickhouse.database }),
      { operation: 'billing usage' },
    );
  }

  fingerprints(params: Omit<FingerprintParams, 'database'>): Promise<FingerprintRow[]> {
    return this.clickhouse.query<FingerprintRow>(
      usageFingerprintQuery({ ...params, database: this.clickhouse.database }),
      { operation: 'usage fingerprint' },
    );
  }
}
