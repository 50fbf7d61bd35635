/**
 * What the billing services need from the world, as small interfaces. The adapters (`../adapters`)
 * implement them with ClickHouse, NATS KV and JetStream; `@tally/billing/testing` implements them in
 * memory for the unit specs.
 */
import type { CustomerSimulation, WatermarkState } from '@tally/billing-contracts';
import type { CatalogProjection, CatalogStore } from '@tally/catalog';
import type { InvoiceDocument } from '../invoices/invoice';
import type { ClosedPeriod } from '@tally/catalog';
import type { ClaimResult } from '../adapters/closed-periods';
import type {
  BillingUsageParams,
  BillingUsageRow,
  FingerprintParams,
  FingerprintRow,
} from '@tally/clickhouse';

/** The append-only ledger of invoices and adjustments. */
export interface InvoiceLedgerPort {
  /** Appends documents; a document written twice (same id and version) is the same row. */
  insert(docs: readonly InvoiceDocument[]): Promise<void>;
  /** A customer's documents, oldest period first, each period's invoice before its adjustments. */
  listForCustomer(tenant: string, customer: string, period?: string): Promise<InvoiceDocument[]>;
  /** Every document of the given customers for one period, grouped by customer (version order). */
  documentsOf(
    tenant: string,
    period: string,
    customers: readonly string[],
    /** `pricingOnly`: `lines` and `usage` may be left empty (readers that only re-price). */
    options?: { pricingOnly?: boolean },
  ): Promise<Map<string, InvoiceDocument[]>>;
  /** Customers with a document for the period, in sorted order after `after`. */
  invoicedCustomers(
    tenant: string,
    period: string,
    after: string | undefined,
    limit: number,
  ): Promise<string[]>;
  /** How many customers have a document for the period. */
  countInvoiced(tenant: string, period: string): Promise<number>;
}

/** The closed-period markers the writer checks late events against. */
export interface ClosedPeriodsPort {
  get(tenant: string, customer: string, period: string): Promise<ClosedPeriod | undefined>;
  /** Creates the marker, or returns the existing one (`claimed` again when it has the same owner). */
  claim(marker: ClosedPeriod): Promise<ClaimResult>;
  markInvoiced(marker: ClosedPeriod): Promise<void>;
  /** Drops a `closing` marker of this owner so that a later attempt can close the period. */
  release(tenant: string, customer: string, period: string, owner: string): Promise<boolean>;
}

/** "Has the writer stored everything the tenant published before now?" */
export interface WatermarkPort {
  /** The tenant's last events-stream sequence now. */
  target(tenant: string): Promise<number>;
  check(tenant: string, target: number): Promise<WatermarkState>;
  /** The tenant's completeness watermark, epoch ms: every event acknowledged before it is stored. */
  completeThrough(tenant: string): Promise<number>;
}

/** Usage and usage fingerprints of many customers of one tenant (the two invoice queries). */
export interface UsageSourcePort {
  usage(params: Omit<BillingUsageParams, 'database'>): Promise<BillingUsageRow[]>;
  fingerprints(params: Omit<FingerprintParams, 'database'>): Promise<FingerprintRow[]>;
}

/** Where issued invoices and adjustments are announced (best effort: the ledger is the record). */
export interface InvoiceNoticesPort {
  published(doc: InvoiceDocument): void;
}

/** The catalog as billing reads it (the process's `CatalogProjection`). */
export type BillingCatalogPort = Pick<
  CatalogProjection,
  'getTenant' | 'getCustomer' | 'getMeter' | 'getPlan' | 'subscriptionsOf' | 'customersWithSubscriptions'
>;

/** Meter versions an invoice was priced with (for recomputations). */
export type MeterVersionsPort = Pick<CatalogStore, 'getMeterVersion'>;

/** Where simulation results of workflow runs are kept (not the ledger: nothing there is billed). */
export interface SimulationResultsPort {
  insert(tenant: string, simulationId: string, results: readonly CustomerSimulation[]): Promise<void>;
  /** Results in (period, customer) order after the given position. */
  read(
    tenant: string,
    simulationId: string,
    after: { period: string; customer: string } | undefined,
    limit: number,
  ): Promise<CustomerSimulation[]>;
}
