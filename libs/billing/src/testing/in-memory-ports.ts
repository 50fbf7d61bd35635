import type { WatermarkState } from '@tally/billing-contracts';
import type { Customer, Meter, Plan, Subscription, Tenant } from '@tally/catalog';
import type { ClosedPeriod } from '@tally/catalog';
import type { ClaimResult } from '../adapters/closed-periods';
import type {
  BillingCatalogPort,
  ClosedPeriodsPort,
  InvoiceLedgerPort,
  InvoiceNoticesPort,
  MeterVersionsPort,
  UsageSourcePort,
  WatermarkPort,
} from '../core/ports';
import type { InvoiceDocument } from '../invoices/invoice';
import type {
  BillingUsageParams,
  BillingUsageRow,
  FingerprintParams,
  FingerprintRow,
} from '@tally/clickhouse';

/** The catalog as plain maps: put entities in, billing reads them as from the projection. */
export class InMemoryBillingCatalog implements BillingCatalogPort, MeterVersionsPort {
  readonly tenants = new Map<string, Tenant>();
  readonly customers = new Map<string, Customer>();
  readonly meters = new Map<string, Meter>();
  readonly meterVersions = new Map<string, Meter>();
  readonly plans = new Map<string, Plan>();
  readonly subscriptions: Subscription[] = [];

  put(
    ...entities: Array<
      | { tenant: Tenant }
      | { customer: Customer }
      | { meter: Meter }
      | { plan: Plan }
      | { subscription: Subscription }
    >
  ): this {
    for (const e of entities) {
      if ('tenant' in e && typeof e.tenant === 'object') this.tenants.set(e.tenant.id, e.tenant);
      else if ('customer' in e) this.customers.set(`${e.customer.tenant}/${e.customer.id}`, e.customer);
      else if ('meter' in e) {
        this.meters.set(`${e.meter.tenant}/${e.meter.key}`, e.meter);
        this.meterVersions.set(`${e.meter.tenant}/${e.meter.key}/${e.meter.version}`, e.meter);
      } else if ('plan' in e) this.plans.set(`${e.plan.tenant}/${e.plan.id}`, e.plan);
      else if ('subscription' in e) this.subscriptions.push(e.subscription);
    }
    return this;
  }

  getTenant(id: string): Tenant | undefined {
    return this.tenants.get(id);
  }
  getCustomer(tenant: string, id: string): Customer | undefined {
    return this.customers.get(`${tenant}/${id}`);
  }
  getMeter(tenant: string, key: string): Meter | undefined {
    return this.meters.get(`${tenant}/${key}`);
  }
  getPlan(tenant: string, id: string): Plan | undefined {
    return this.plans.get(`${tenant}/${id}`);
  }
  subscriptionsOf(tenant: string, customer: string): Subscription[] {
    return this.subscriptions.filter((s) => s.tenant === tenant && s.customer === customer);
  }
  customersWithSubscriptions(tenant: string): string[] {
    return [...new Set(this.subscriptions.filter((s) => s.tenant === tenant).map((s) => s.customer))].sort();
  }
  async getMeterVersion(tenant: string, key: string, version: number): Promise<Meter | undefined> {
    return this.meterVersions.get(`${tenant}/${key}/${version}`);
  }
}

/** The ledger as an array of documents (a rewrite of the same id and version replaces the row, like ReplacingMergeTree FINAL). */
export class InMemoryInvoiceLedger implements InvoiceLedgerPort {
  readonly documents: InvoiceDocument[] = [];
  inserts = 0;

  async insert(docs: readonly InvoiceDocument[]): Promise<void> {
    if (docs.length === 0) return;
    this.inserts++;
    for (const doc of docs) {
      const i = this.documents.findIndex((d) => d.invoiceId === doc.invoiceId && d.version === doc.version);
      if (i >= 0) this.documents[i] = doc;
      else this.documents.push(doc);
    }
  }

  async listForCustomer(tenant: string, customer: string, period?: string): Promise<InvoiceDocument[]> {
    return this.documents
      .filter(
        (d) =>
          d.tenant === tenant && d.customer === customer && (period === undefined || d.period === period),
      )
      .sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : a.version - b.version));
  }

  async documentsOf(
    tenant: string,
    period: string,
    customers: readonly string[],
  ): Promise<Map<string, InvoiceDocument[]>> {
    const out = new Map<string, InvoiceDocument[]>();
    for (const customer of customers) {
      const docs = await this.listForCustomer(tenant, customer, period);
      if (docs.length) out.set(customer, docs);
    }
    return out;
  }

  async invoicedCustomers(
    tenant: string,
    period: string,
    after: string | undefined,
    limit: number,
  ): Promise<string[]> {
    const customers = new Set(
      this.documents.filter((d) => d.tenant === tenant && d.period === period).map((d) => d.customer),
    );
    return [...customers]
      .sort()
      .filter((c) => after === undefined || c > after)
      .slice(0, limit);
  }

  async countInvoiced(tenant: string, period: string): Promise<number> {
    return (await this.invoicedCustomers(tenant, period, undefined, Number.MAX_SAFE_INTEGER)).length;
  }
}

/** Closed-period markers in a map, with the KV store's create-once semantics. */
export class InMemoryClosedPeriods implements ClosedPeriodsPort {
  readonly markers = new Map<string, ClosedPeriod>();

  private key(tenant: string, customer: string, period: string): string {
    return `${tenant}\u0000${customer}\u0000${period}`;
  }

  async get(tenant: string, customer: string, period: string): Promise<ClosedPeriod | undefined> {
    return this.markers.get(this.key(tenant, customer, period));
  }

  async claim(marker: ClosedPeriod): Promise<ClaimResult> {
    const k = this.key(marker.tenant, marker.customer, marker.period);
    const existing = this.markers.get(k);
    if (!existing) {
      this.markers.set(k, marker);
      return { claimed: true, marker };
    }
    return { claimed: existing.owner === marker.owner, marker: existing };
  }

  async markInvoiced(marker: ClosedPeriod): Promise<void> {
    this.markers.set(this.key(marker.tenant, marker.customer, marker.period), marker);
  }

  async release(tenant: string, customer: string, period: string, owner: string): Promise<boolean> {
    const k = this.key(tenant, customer, period);
    const marker = this.markers.get(k);
    if (!marker || marker.owner !== owner || marker.state !== 'closing') return false;
    return this.markers.delete(k);
  }
}

/** A writer whose ack floor advances by `step` per check until it reaches the stream's last sequence. */
export class SteppingWatermark implements WatermarkPort {
  checks = 0;

  constructor(
    private readonly lastSeq = 10,
    private ackFloor = 0,
    private readonly step = 5,
  ) {}

  async target(): Promise<number> {
    return this.lastSeq;
  }

  /** What `completeThrough` answers (epoch ms). */
  watermarkMs = Date.parse('2030-01-01T00:00:00Z');

  async check(_tenant: string, target: number): Promise<WatermarkState> {
    this.checks++;
    const state = { target, ackFloor: this.ackFloor, reached: this.ackFloor >= target };
    this.ackFloor += this.step;
    return state;
  }

  async completeThrough(): Promise<number> {
    return this.watermarkMs;
  }
}

/** One stored usage value: a customer's period total of a series, or one local day's. */
export interface UsageFact {
  customer: string;
  series: string;
  /** Epoch seconds of the local day; absent for the period total. */
  dayStart?: number;
  /** A period total: only for a query from this instant (epoch ms), e.g. one subscription's share. */
  fromMs?: number;
  /** ... and to this instant (epoch ms). */
  toMs?: number;
  value: string;
}

/** Usage rows from a list of facts (the queries' filters applied: tenant aside, customers and series). */
export class InMemoryUsageSource implements UsageSourcePort {
  readonly usageQueries: Array<Omit<BillingUsageParams, 'database'>> = [];
  readonly fingerprintQueries: Array<Omit<FingerprintParams, 'database'>> = [];

  /** Run once right after the next query read its rows: events that arrive between two queries. */
  betweenQueries?: () => void;

  constructor(
    public facts: UsageFact[] = [],
    public fingerprintRows: FingerprintRow[] = [],
  ) {}

  private arrived(): void {
    const hook = this.betweenQueries;
    this.betweenQueries = undefined;
    hook?.();
  }

  async usage(params: Omit<BillingUsageParams, 'database'>): Promise<BillingUsageRow[]> {
    this.usageQueries.push(params);
    const series = new Set(params.series.map((s) => s.key));
    const rows: BillingUsageRow[] = this.facts
      .filter((f) => params.customers.includes(f.customer) && series.has(f.series))
      .filter((f) =>
        f.dayStart === undefined
          ? (f.fromMs === undefined || f.fromMs === params.from.getTime()) &&
            (f.toMs === undefined || f.toMs === params.to.getTime())
          : f.dayStart * 1000 >= params.from.getTime() && f.dayStart * 1000 < params.to.getTime(),
      )
      .map((f) => ({
        series: f.series,
        customer: f.customer,
        bucket: f.dayStart === undefined ? 'total' : 'day',
        day_start: f.dayStart ?? 0,
        value: f.value,
      }));
    this.arrived();
    return rows;
  }

  async fingerprints(params: Omit<FingerprintParams, 'database'>): Promise<FingerprintRow[]> {
    this.fingerprintQueries.push(params);
    const rows = this.fingerprintRows.filter((r) => params.customers.includes(r.customer));
    this.arrived();
    return rows;
  }
}

export class RecordingNotices implements InvoiceNoticesPort {
  readonly documents: InvoiceDocument[] = [];

  published(doc: InvoiceDocument): void {
    this.documents.push(doc);
  }
}
