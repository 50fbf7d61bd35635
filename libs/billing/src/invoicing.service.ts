import type { CatalogProjection, CatalogStore, ClosedPeriod, Meter } from '@tally/catalog';
import { customerTimeZone } from '@tally/catalog';
import type { ClickHouse } from '@tally/clickhouse';
import { isTallyError } from '@tally/errors';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { Logger } from '@tally/observability';
import type { Plan as PricingPlan } from '@tally/pricing';
import type { ClosedPeriodStore } from './closed-periods';
import { BillingRejectedError, InvoiceNotYetIssuedError } from './errors';
import {
  computeAdjustment,
  computeInvoice,
  invoiceId,
  pricingPlanOf,
  seriesOfPlan,
  type InvoiceDocument,
  type PricingSnapshot,
  type SeriesUsage,
  type UsageFingerprint,
} from './invoice';
import { InvoiceLedger } from './invoice-ledger';
import {
  customerPeriod,
  localDateOf,
  periodsEndedBetween,
  startOfDate,
  type CustomerPeriod,
} from '@tally/billing-periods';
import type {
  CloseOutcome,
  CloseRequest,
  CloseResult,
  DueCustomer,
  DueCustomersPage,
  DueCustomersRequest,
  IssueOutcome,
  IssueRequest,
  PeriodRef,
  RebillOutcome,
  RebillRequest,
  WatermarkState,
} from '@tally/billing-contracts';
import {
  billingUsageQuery,
  usageFingerprintQuery,
  type BillingUsageRow,
  type FingerprintRow,
  type SeriesRef,
} from './usage-queries';
import { WriterWatermark } from './writer-watermark';

export interface InvoicingDependencies {
  clickhouse: ClickHouse;
  nc: NatsConnection;
  names: NatsNames;
  /** Tenants, customers, current meters, plans and subscriptions. */
  catalog: CatalogProjection;
  /** Meter versions an invoice was computed with (for recomputations). */
  store: Pick<CatalogStore, 'getMeterVersion'>;
  closed: ClosedPeriodStore;
  logger: Logger;
  clock?: () => number;
  /** Customers per usage query (the IN list). */
  queryChunk?: number;
  /** Ledger inserts within this many ms share one INSERT. Default 50. */
  ledgerCoalesceMs?: number;
}

/** What `published` messages on `tally.invoices.<tenant>` carry. */
export interface InvoiceNotice {
  type: 'invoice.issued' | 'invoice.adjusted';
  tenant: string;
  customer: string;
  period: string;
  invoiceId: string;
  version: number;
  referencesInvoiceId: string;
  currency: string;
  totalMinor: string;
  cumulativeTotalMinor: string;
  lateEventCount: number;
}

/**
 * Closes billing periods and issues their invoices and adjustments. Every step is idempotent, because
 * Temporal retries activities and a worker can die at any point:
 *
 * 1. `closePeriods` claims each period with a marker in KV (created once; its owner may claim it again)
 *    and then waits for the writer's watermark, so that every event accepted before the close is stored.
 * 2. `issueInvoices` reads the usage, prices it and appends the invoice to the ledger under an id
 *    derived from (tenant, customer, period, version): written twice, it is the same row.
 * 3. `rebill` recomputes a closed period with the pricing snapshot of its invoice and appends an
 *    adjustment when the events counted changed (the usage fingerprint), never twice for the same events.
 */
export class InvoicingService {
  readonly ledger: InvoiceLedger;
  private readonly watermark: WriterWatermark;
  private readonly clock: () => number;
  private readonly chunk: number;
  private readonly meterVersions = new Map<string, Meter>();

  constructor(private readonly deps: InvoicingDependencies) {
    this.ledger = new InvoiceLedger(deps.clickhouse, deps.ledgerCoalesceMs ?? 50);
    this.watermark = new WriterWatermark(deps.nc, deps.names);
    this.clock = deps.clock ?? Date.now;
    this.chunk = deps.queryChunk ?? 500;
  }

  // ---------------------------------------------------------------------------------- due customers

  timezoneOf(tenant: string, customer: string): string | undefined {
    const t = this.deps.catalog.getTenant(tenant);
    if (!t) return undefined;
    return customerTimeZone(this.deps.catalog.getCustomer(tenant, customer) ?? {}, t);
  }

  /** One page of the tenant's customers whose period ended in the run's window and is not closed yet. */
  async dueCustomers(req: DueCustomersRequest): Promise<DueCustomersPage> {
    const all = this.deps.catalog.customersWithSubscriptions(req.tenant);
    const start = req.after === undefined ? 0 : upperBound(all, req.after);
    const page = all.slice(start, start + req.limit);
    const afterMs = req.atMs - req.lookbackHours * 3_600_000;
    const candidates: DueCustomer[] = [];
    for (const customer of page) {
      const tz = this.timezoneOf(req.tenant, customer);
      if (!tz) continue;
      const subs = this.deps.catalog.subscriptionsOf(req.tenant, customer);
      for (const p of periodsEndedBetween(subs, tz, afterMs, req.atMs)) {
        candidates.push({ customer, period: p.period, endsAtMs: p.toMs });
      }
    }
    const closed = await mapLimit(candidates, 32, (c) =>
      this.deps.closed.get(req.tenant, c.customer, c.period),
    );
    const due = candidates.filter((_, i) => closed[i] === undefined);
    const next = start + req.limit < all.length ? page.at(-1) : undefined;
    return { due, scanned: page.length, ...(next !== undefined ? { next } : {}) };
  }

  /** The billable period of each customer (undefined: no active subscription), e.g. for the grace timer. */
  describePeriods(tenant: string, refs: readonly PeriodRef[]): Array<CustomerPeriod | undefined> {
    return refs.map((r) => {
      const tz = this.timezoneOf(tenant, r.customer);
      return tz
        ? customerPeriod(this.deps.catalog.subscriptionsOf(tenant, r.customer), r.period, tz)
        : undefined;
    });
  }

  // ------------------------------------------------------------------------------------------ close

  /**
   * Claims the periods (markers first, so that the writer treats every later event as late), then
   * waits until the writer has stored everything the tenant published before the claims. `progress`
   * is called on every poll (activities heartbeat with it).
   */
  async closePeriods(
    req: CloseRequest,
    progress: (state: WatermarkState) => void = () => undefined,
    pollMs = 250,
    signal?: AbortSignal,
  ): Promise<CloseResult> {
    const shares = this.describePeriods(req.tenant, req.periods);
    const closedAt = new Date(this.clock()).toISOString();
    const outcomes = await mapLimit(req.periods, 32, async (ref, i): Promise<CloseOutcome> => {
      const share = shares[i];
      if (!share) return { ...ref, status: 'no_subscription' };
      const id = invoiceId(req.tenant, ref.customer, ref.period, 1);
      const claim = await this.deps.closed.claim({
        tenant: req.tenant,
        customer: ref.customer,
        period: ref.period,
        fromMs: share.fromMs,
        toMs: share.toMs,
        invoiceId: id,
        owner: req.owner,
        state: 'closing',
        closedAt,
      });
      if (!claim.claimed) {
        return {
          ...ref,
          status: 'taken',
          invoiceId: claim.marker.invoiceId,
          owner: claim.marker.owner,
          state: claim.marker.state,
        };
      }
      // A claim made earlier by this owner keeps its period: the invoice must cover what the marker says.
      const kept = { ...share, fromMs: claim.marker.fromMs, toMs: claim.marker.toMs };
      return { ...ref, status: 'claimed', invoiceId: id, share: kept };
    });
    const watermark = await this.awaitWatermark(req.tenant, progress, pollMs, signal);
    return { outcomes, watermark };
  }

  async awaitWatermark(
    tenant: string,
    progress: (state: WatermarkState) => void,
    pollMs: number,
    signal?: AbortSignal,
  ): Promise<WatermarkState> {
    const target = await this.watermark.target(tenant);
    for (;;) {
      const state = await this.watermark.check(target);
      progress(state);
      if (state.reached) return state;
      if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  // ------------------------------------------------------------------------------------------ issue

  /** Computes and appends the invoices of claimed periods; a customer's rejection does not stop the others. */
  async issueInvoices(req: IssueRequest): Promise<IssueOutcome[]> {
    const outcomes = new Map<string, IssueOutcome>();
    const byPeriod = groupBy(req.periods, (p) => p.share.period);
    const documents: InvoiceDocument[] = [];
    for (const [period, items] of byPeriod) {
      const existing = await this.ledger.documentsOf(
        req.tenant,
        period,
        items.map((i) => i.customer),
      );
      const todo: Array<{
        customer: string;
        share: CustomerPeriod;
        pricing: PricingSnapshot;
        series: Record<string, SeriesRef>;
      }> = [];
      for (const item of items) {
        const invoice = existing.get(item.customer)?.find((d) => d.version === 1);
        if (invoice) {
          outcomes.set(key(item.customer, period), {
            customer: item.customer,
            period,
            status: 'already_issued',
            invoiceId: invoice.invoiceId,
            totalMinor: invoice.totalMinor,
            currency: invoice.currency,
          });
          continue;
        }
        try {
          todo.push({
            customer: item.customer,
            share: item.share,
            ...this.currentPricing(req.tenant, item.share),
          });
        } catch (error) {
          outcomes.set(key(item.customer, period), failure(item.customer, period, error));
        }
      }
      const usage = await this.loadUsage(req.tenant, todo);
      const createdAt = new Date(this.clock()).toISOString();
      for (const item of todo) {
        try {
          const doc = computeInvoice({
            tenant: req.tenant,
            customer: item.customer,
            period: item.share,
            pricing: item.pricing,
            usage: usage.get(item.customer)?.usage ?? {},
            fingerprint: usage.get(item.customer)?.fingerprint ?? { eventCount: '0', checksum: '0' },
            issuedBy: req.owner,
            createdAt,
          });
          documents.push(doc);
          outcomes.set(key(item.customer, period), {
            customer: item.customer,
            period,
            status: 'issued',
            invoiceId: doc.invoiceId,
            totalMinor: doc.totalMinor,
            currency: doc.currency,
          });
        } catch (error) {
          outcomes.set(key(item.customer, period), failure(item.customer, period, error));
        }
      }
    }
    await this.ledger.insert(documents);
    for (const doc of documents) this.publish(doc);
    // Only now is the period settled; until then the marker says "closing", which the writer treats the same.
    await mapLimit([...outcomes.values()], 32, async (o) => {
      if (o.status === 'failed') return;
      const share = req.periods.find((p) => p.customer === o.customer && p.share.period === o.period)?.share;
      if (!share) return;
      await this.deps.closed.markInvoiced({
        tenant: req.tenant,
        customer: o.customer,
        period: o.period,
        fromMs: share.fromMs,
        toMs: share.toMs,
        invoiceId: o.invoiceId,
        owner: req.owner,
        state: 'invoiced',
        closedAt: new Date(this.clock()).toISOString(),
        totalMinor: o.totalMinor,
        currency: o.currency,
      });
    });
    for (const o of outcomes.values()) {
      if (o.status !== 'failed') continue;
      this.deps.logger.warn(
        { tenant: req.tenant, ...o },
        'invoice not issued; the period is released for a later attempt',
      );
      await this.deps.closed.release(req.tenant, o.customer, o.period, req.owner);
    }
    return req.periods.map((p) => outcomes.get(key(p.customer, p.share.period)) as IssueOutcome);
  }

  /** The plans (as of now) and meters (current versions) a period is priced with. */
  private currentPricing(
    tenant: string,
    share: CustomerPeriod,
  ): { pricing: PricingSnapshot; series: Record<string, SeriesRef> } {
    const plans: Record<string, PricingPlan> = {};
    for (const s of share.subscriptions) {
      const plan = this.deps.catalog.getPlan(tenant, s.plan);
      if (!plan)
        throw new BillingRejectedError(
          'UNKNOWN_PLAN',
          `plan '${s.plan}' of subscription '${s.subscription}' does not exist`,
        );
      plans[plan.id] = pricingPlanOf(plan);
    }
    const meterVersions: Record<string, number> = {};
    const series: Record<string, SeriesRef> = {};
    for (const plan of Object.values(plans)) {
      for (const key of seriesOfPlan(plan)) {
        const [meterKey, profile] = key.split(':', 2);
        const meter = this.deps.catalog.getMeter(tenant, meterKey);
        if (!meter)
          throw new BillingRejectedError(
            'UNKNOWN_METER',
            `meter '${meterKey}' of plan '${plan.id}' does not exist`,
          );
        if (profile !== undefined && !meter.profiles.some((p) => p.key === profile)) {
          throw new BillingRejectedError(
            'UNKNOWN_PROFILE',
            `meter '${meterKey}' has no profile '${profile}'`,
          );
        }
        meterVersions[meterKey] = meter.version;
        series[key] = { key, meter, version: meter.version, ...(profile !== undefined ? { profile } : {}) };
      }
    }
    return { pricing: { subscriptions: share.subscriptions, plans, meterVersions }, series };
  }

  /** The meters of a pricing snapshot, at the versions it names. */
  private async snapshotSeries(tenant: string, pricing: PricingSnapshot): Promise<Record<string, SeriesRef>> {
    const series: Record<string, SeriesRef> = {};
    for (const plan of Object.values(pricing.plans)) {
      for (const key of seriesOfPlan(plan)) {
        const [meterKey, profile] = key.split(':', 2);
        const version = pricing.meterVersions[meterKey];
        const cacheKey = `${tenant}\u0000${meterKey}\u0000${version}`;
        let meter = this.meterVersions.get(cacheKey);
        if (!meter) {
          meter = await this.deps.store.getMeterVersion(tenant, meterKey, version);
          if (!meter)
            throw new BillingRejectedError(
              'UNKNOWN_METER',
              `meter '${meterKey}' version ${version} is not stored`,
            );
          if (this.meterVersions.size > 10_000) this.meterVersions.clear();
          this.meterVersions.set(cacheKey, meter);
        }
        series[key] = { key, meter, version: meter.version, ...(profile !== undefined ? { profile } : {}) };
      }
    }
    return series;
  }

  // ----------------------------------------------------------------------------------------- usage

  /**
   * Usage and fingerprint of many customers, with as few queries as possible: customers whose
   * subscriptions cover the same range in the same zone with the same series share one query.
   */
  async loadUsage(
    tenant: string,
    items: ReadonlyArray<{
      customer: string;
      share: CustomerPeriod;
      pricing: PricingSnapshot;
      series: Record<string, SeriesRef>;
    }>,
  ): Promise<
    Map<string, { usage: Record<string, Record<string, SeriesUsage>>; fingerprint: UsageFingerprint }>
  > {
    const database = this.deps.clickhouse.database;
    const result = new Map<
      string,
      { usage: Record<string, Record<string, SeriesUsage>>; fingerprint: UsageFingerprint }
    >();
    interface UsageGroup {
      tz: string;
      from: number;
      to: number;
      series: SeriesRef[];
      members: Array<{ customer: string; subscription: string }>;
    }
    const usageGroups = new Map<string, UsageGroup>();
    interface FingerprintGroup {
      from: number;
      to: number;
      types: string[];
      customers: Set<string>;
    }
    const fingerprintGroups = new Map<string, FingerprintGroup>();
    for (const item of items) {
      const entry = {
        usage: {} as Record<string, Record<string, SeriesUsage>>,
        fingerprint: { eventCount: '0', checksum: '0' },
      };
      result.set(item.customer, entry);
      const types = new Set<string>();
      for (const s of item.share.subscriptions) {
        entry.usage[s.subscription] = {};
        const plan = item.pricing.plans[s.plan];
        const series = seriesOfPlan(plan).map((k) => item.series[k]);
        for (const ref of series) for (const t of ref.meter.eventTypes) types.add(t);
        if (series.length === 0) continue;
        const from = startOfDate(s.start, item.share.timezone);
        const to = startOfDate(s.end, item.share.timezone);
        const groupKey = [
          item.share.timezone,
          from,
          to,
          ...series.map((r) => `${r.key}@${r.version ?? 0}`),
        ].join('|');
        const group = usageGroups.get(groupKey) ?? { tz: item.share.timezone, from, to, series, members: [] };
        group.members.push({ customer: item.customer, subscription: s.subscription });
        usageGroups.set(groupKey, group);
      }
      if (types.size > 0) {
        const sorted = [...types].sort();
        const fKey = [item.share.fromMs, item.share.toMs, ...sorted].join('|');
        const group = fingerprintGroups.get(fKey) ?? {
          from: item.share.fromMs,
          to: item.share.toMs,
          types: sorted,
          customers: new Set(),
        };
        group.customers.add(item.customer);
        fingerprintGroups.set(fKey, group);
      }
    }

    for (const group of usageGroups.values()) {
      const customers = [...new Set(group.members.map((m) => m.customer))];
      for (let i = 0; i < customers.length; i += this.chunk) {
        const slice = customers.slice(i, i + this.chunk);
        const rows = await this.deps.clickhouse.query<BillingUsageRow>(
          billingUsageQuery({
            database,
            tenant,
            customers: slice,
            series: group.series,
            from: new Date(group.from),
            to: new Date(group.to),
            timezone: group.tz,
          }),
          { operation: 'billing usage' },
        );
        const byCustomer = groupBy(rows, (r) => r.customer);
        const inSlice = new Set(slice);
        for (const m of group.members) {
          const usage = inSlice.has(m.customer) ? result.get(m.customer)?.usage[m.subscription] : undefined;
          if (!usage) continue;
          for (const ref of group.series) usage[ref.key] = { total: '0', days: [] };
          for (const r of byCustomer.get(m.customer) ?? []) {
            const u = usage[r.series];
            if (!u) continue;
            if (r.bucket === 'total') u.total = r.value;
            else u.days.push({ day: localDateOf(Number(r.day_start) * 1000, group.tz), value: r.value });
          }
          for (const u of Object.values(usage)) u.days.sort((a, b) => (a.day < b.day ? -1 : 1));
        }
      }
    }

    for (const group of fingerprintGroups.values()) {
      const customers = [...group.customers];
      for (let i = 0; i < customers.length; i += this.chunk) {
        const rows = await this.deps.clickhouse.query<FingerprintRow>(
          usageFingerprintQuery({
            database,
            tenant,
            customers: customers.slice(i, i + this.chunk),
            eventTypes: group.types,
            from: new Date(group.from),
            to: new Date(group.to),
          }),
          { operation: 'usage fingerprint' },
        );
        for (const r of rows) {
          const entry = result.get(r.customer);
          if (entry) entry.fingerprint = { eventCount: String(r.event_count), checksum: String(r.checksum) };
        }
      }
    }
    return result;
  }

  // ---------------------------------------------------------------------------------------- rebill

  /**
   * Recomputes a closed period with its invoice's pricing snapshot and appends an adjustment if the
   * events counted changed since the newest document. Throws `InvoiceNotYetIssuedError` (retryable)
   * while the period is still being closed.
   */
  async rebill(req: RebillRequest): Promise<RebillOutcome> {
    const docs = await this.ledger.listForCustomer(req.tenant, req.customer, req.period);
    const invoice = docs.find((d) => d.version === 1);
    if (!invoice) throw new InvoiceNotYetIssuedError(req.tenant, req.customer, req.period);
    const latest = docs.reduce((a, b) => (b.version > a.version ? b : a), invoice);
    const share: CustomerPeriod = {
      period: invoice.period,
      timezone: invoice.timezone,
      subscriptions: invoice.pricing.subscriptions,
      fromMs: Date.parse(invoice.periodStart),
      toMs: Date.parse(invoice.periodEnd),
    };
    const series = await this.snapshotSeries(req.tenant, invoice.pricing);
    const usage = await this.loadUsage(req.tenant, [
      { customer: req.customer, share, pricing: invoice.pricing, series },
    ]);
    const recomputed = usage.get(req.customer) ?? {
      usage: {},
      fingerprint: { eventCount: '0', checksum: '0' },
    };
    const adjustment = computeAdjustment(invoice, latest, {
      usage: recomputed.usage,
      fingerprint: recomputed.fingerprint,
      issuedBy: req.owner,
      createdAt: new Date(this.clock()).toISOString(),
    });
    if (!adjustment)
      return {
        status: 'unchanged',
        latestVersion: latest.version,
        eventCount: latest.fingerprint.eventCount,
      };
    await this.ledger.insert([adjustment]);
    this.publish(adjustment);
    return {
      status: 'adjusted',
      invoiceId: adjustment.invoiceId,
      version: adjustment.version,
      totalMinor: adjustment.totalMinor,
      cumulativeTotalMinor: adjustment.cumulativeTotalMinor,
      lateEventCount: adjustment.lateEventCount,
    };
  }

  private publish(doc: InvoiceDocument): void {
    const notice: InvoiceNotice = {
      type: doc.kind === 'invoice' ? 'invoice.issued' : 'invoice.adjusted',
      tenant: doc.tenant,
      customer: doc.customer,
      period: doc.period,
      invoiceId: doc.invoiceId,
      version: doc.version,
      referencesInvoiceId: doc.referencesInvoiceId,
      currency: doc.currency,
      totalMinor: doc.totalMinor,
      cumulativeTotalMinor: doc.cumulativeTotalMinor,
      lateEventCount: doc.lateEventCount,
    };
    // Core NATS: a notification for subscribers that are listening; the ledger is the record.
    this.deps.nc.publish(this.deps.names.invoicesSubject(doc.tenant), JSON.stringify(notice));
  }
}

function key(customer: string, period: string): string {
  return `${customer}\u0000${period}`;
}

function failure(customer: string, period: string, error: unknown): IssueOutcome {
  if (isTallyError(error) && !error.retryable) {
    const detail = error.details[0];
    return {
      customer,
      period,
      status: 'failed',
      code: detail?.code ?? error.code,
      message: detail?.message ?? error.message,
    };
  }
  throw error;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Index of the first element greater than `value` in a sorted array. */
function upperBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
