import type { TaxEngine } from '@tally/pricing';
import type { Logger } from '@tally/observability';
import { DuePeriods } from './due-periods';
import { InvoiceIssuer } from './invoice-issuer';
import { PeriodCloser } from './period-closer';
import type {
  BillingCatalogPort,
  ClosedPeriodsPort,
  InvoiceLedgerPort,
  InvoiceNoticesPort,
  MeterVersionsPort,
  SimulationResultsPort,
  UsageSourcePort,
  WatermarkPort,
} from './ports';
import { PricingSnapshots } from './pricing-snapshots';
import { ProgressiveBilling } from './progressive-billing';
import { Rebiller } from './rebiller';
import { UsageLoader } from './usage-loader';
import { Simulator } from '../simulation/simulator';
import { CreditTimers, type CreditLedgerWriterPort } from '../credits/credit-timers';

/** The ports billing runs on (ClickHouse, NATS KV and JetStream in production; in memory in unit specs). */
export interface BillingPorts {
  catalog: BillingCatalogPort;
  meterVersions: MeterVersionsPort;
  ledger: InvoiceLedgerPort;
  closed: ClosedPeriodsPort;
  watermark: WatermarkPort;
  usage: UsageSourcePort;
  notices: InvoiceNoticesPort;
  logger: Logger;
  clock?: () => number;
  /** Customers per usage query (the IN list). Default 500. */
  queryChunk?: number;
  /** Where simulations run as workflows keep their results. */
  simulationResults?: SimulationResultsPort;
  /** An external tax engine (docs/finance.md#taxes); the tenant's rate table when absent. */
  taxEngine?: TaxEngine;
  /** Where grant timers append their records (the catalog store); no grant timers without it. */
  creditLedger?: CreditLedgerWriterPort;
}

/**
 * Billing's services, one job each, wired on the given ports. Every step is idempotent, because
 * Temporal retries activities and a worker can die at any point (see each service).
 */
export interface BillingServices {
  /** Which periods are due, and what each covers. */
  due: DuePeriods;
  /** Claims periods and waits for the writer's watermark. */
  closer: PeriodCloser;
  /** Computes and appends the invoices of claimed periods. */
  issuer: InvoiceIssuer;
  /** Appends adjustments when late events changed a closed period. */
  rebiller: Rebiller;
  /** Re-prices closed periods under changed plans (reads only; never the ledger). */
  simulator: Simulator;
  /** Interim invoices of open periods whose accrued amount reached a threshold. */
  progressive: ProgressiveBilling;
  /** The steps of credit grants' durable timers (absent without a `creditLedger` port). */
  creditTimers?: CreditTimers;
}

export function createBillingServices(ports: BillingPorts): BillingServices {
  const due = new DuePeriods(ports.catalog, ports.closed);
  const pricing = new PricingSnapshots(ports.catalog, ports.meterVersions);
  const usage = new UsageLoader(ports.usage, ports.queryChunk ?? 500);
  return {
    due,
    closer: new PeriodCloser(due, ports.closed, ports.watermark, ports.clock),
    issuer: new InvoiceIssuer({
      catalog: ports.catalog,
      ledger: ports.ledger,
      closed: ports.closed,
      pricing,
      usage,
      notices: ports.notices,
      watermark: ports.watermark,
      logger: ports.logger,
      clock: ports.clock,
      taxEngine: ports.taxEngine,
    }),
    rebiller: new Rebiller({
      catalog: ports.catalog,
      ledger: ports.ledger,
      pricing,
      usage,
      notices: ports.notices,
      watermark: ports.watermark,
      clock: ports.clock,
      taxEngine: ports.taxEngine,
    }),
    progressive: new ProgressiveBilling({
      catalog: ports.catalog,
      ledger: ports.ledger,
      closed: ports.closed,
      pricing,
      usage,
      notices: ports.notices,
      logger: ports.logger,
      clock: ports.clock,
      scanChunk: ports.queryChunk,
    }),
    simulator: new Simulator({
      ledger: ports.ledger,
      catalog: ports.catalog,
      pricing,
      usage,
      results: ports.simulationResults,
    }),
    ...(ports.creditLedger
      ? { creditTimers: new CreditTimers(ports.creditLedger, ports.ledger, ports.clock) }
      : {}),
  };
}
