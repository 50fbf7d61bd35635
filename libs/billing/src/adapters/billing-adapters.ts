import type { CatalogProjection, CatalogStore } from '@tally/catalog';
import type { ClickHouse } from '@tally/clickhouse';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { Logger } from '@tally/observability';
import type { BillingPorts } from '../core/billing-services';
import type { CreditLedgerWriterPort } from '../credits/credit-timers';
import { ClickHouseUsageSource } from './clickhouse-usage-source';
import type { ClosedPeriodStore } from './closed-periods';
import { InvoiceLedger } from './invoice-ledger';
import { NatsInvoiceNotices } from './nats-invoice-notices';
import { SimulationResultStore } from './simulation-results';
import { WriterWatermark } from './writer-watermark';

export interface BillingInfrastructure {
  clickhouse: ClickHouse;
  nc: NatsConnection;
  names: NatsNames;
  /** The process's catalog projection (tenants, customers, meters, plans, subscriptions). */
  catalog: CatalogProjection;
  /**
   * Meter versions an invoice was computed with (for recomputations); with `getTenant`, `getCustomer`
   * and `putCustomer`, where grant timers append their records (docs/finance.md#expiry-and-recurrence-timers).
   */
  store: Pick<CatalogStore, 'getMeterVersion'> &
    Partial<Pick<CatalogStore, 'getTenant' | 'getCustomer' | 'putCustomer'>>;
  closed: ClosedPeriodStore;
  logger: Logger;
  /** Ledger inserts within this many ms share one INSERT. Default 50. */
  ledgerCoalesceMs?: number;
}

/** Billing's ports on the real infrastructure: the ClickHouse ledger and usage, NATS KV markers, JetStream watermark. */
export function billingAdapters(infra: BillingInfrastructure): BillingPorts {
  return {
    catalog: infra.catalog,
    meterVersions: infra.store,
    ...(infra.store.getTenant && infra.store.getCustomer && infra.store.putCustomer
      ? { creditLedger: infra.store as CreditLedgerWriterPort }
      : {}),
    ledger: new InvoiceLedger(infra.clickhouse, infra.ledgerCoalesceMs ?? 50),
    closed: infra.closed,
    watermark: new WriterWatermark(infra.nc, infra.names),
    usage: new ClickHouseUsageSource(infra.clickhouse),
    notices: new NatsInvoiceNotices(infra.nc, infra.names),
    logger: infra.logger,
    simulationResults: new SimulationResultStore(infra.clickhouse),
  };
}
