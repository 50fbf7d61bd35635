import { localDateOf, startOfDate, type CustomerPeriod } from '@tally/billing-periods';
import type { SeriesUsage, UsageFingerprint } from '../invoices/invoice';
import { seriesOfPlan } from '../invoices/period-pricing';
import type { SeriesRef } from '@tally/clickhouse';
import { groupBy } from './collections';
import type { PricedSeries } from './pricing-snapshots';
import type { UsageSourcePort } from './ports';

/** One customer's period to read usage for, with the pricing (and so the series) it is billed with. */
export interface UsageItem extends PricedSeries {
  customer: string;
  share: CustomerPeriod;
}

/** A customer's usage per subscription and series, and the fingerprint of the events counted. */
export interface CustomerUsage {
  usage: Record<string, Record<string, SeriesUsage>>;
  fingerprint: UsageFingerprint;
}

/** Customers whose subscriptions cover the same range in the same zone with the same series: one query. */
interface UsageGroup {
  tz: string;
  from: number;
  to: number;
  series: SeriesRef[];
  members: Array<{ customer: string; subscription: string }>;
}

/** Customers with the same period instants and event types: one fingerprint query. */
interface FingerprintGroup {
  from: number;
  to: number;
  types: string[];
  customers: Set<string>;
}

const NO_EVENTS: UsageFingerprint = { eventCount: '0', checksum: '0' };

/**
 * Reads the usage and fingerprint of many customers with as few queries as possible: customers are
 * grouped by what their queries would share, and each group is read in chunks of `chunk` customers.
 */
export class UsageLoader {
  constructor(
    private readonly source: UsageSourcePort,
    private readonly chunk = 500,
  ) {}

  async load(tenant: string, items: readonly UsageItem[]): Promise<Map<string, CustomerUsage>> {
    const result = new Map<string, CustomerUsage>();
    const usageGroups = new Map<string, UsageGroup>();
    const fingerprintGroups = new Map<string, FingerprintGroup>();
    for (const item of items) {
      const entry: CustomerUsage = { usage: {}, fingerprint: { ...NO_EVENTS } };
      result.set(item.customer, entry);
      const types = addUsageGroups(usageGroups, item, entry);
      if (types.size > 0) addFingerprintGroup(fingerprintGroups, item, [...types].sort());
    }
    // The fingerprint first, then the usage. ClickHouse gives no snapshot across two queries and events
    // keep arriving (late ones too), so what the usage counts is a superset of what the fingerprint
    // counted before it. An event stored in between is billed now and, not being in the fingerprint,
    // makes its own late-event rebill recompute (an adjustment of 0 that names it). The other order
    // let the fingerprint count events the amounts missed, and the rebill their notice started then
    // saw an unchanged fingerprint: those events were never billed.
    for (const group of fingerprintGroups.values()) await this.readFingerprints(tenant, group, result);
    for (const group of usageGroups.values()) await this.readUsage(tenant, group, result);
    return result;
  }

  private async readUsage(
    tenant: string,
    group: UsageGroup,
    result: Map<string, CustomerUsage>,
  ): Promise<void> {
    const customers = [...new Set(group.members.map((m) => m.customer))];
    for (let i = 0; i < customers.length; i += this.chunk) {
      const slice = customers.slice(i, i + this.chunk);
      const rows = await this.source.usage({
        tenant,
        customers: slice,
        series: group.series,
        from: new Date(group.from),
        to: new Date(group.to),
        timezone: group.tz,
      });
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

  private async readFingerprints(
    tenant: string,
    group: FingerprintGroup,
    result: Map<string, CustomerUsage>,
  ): Promise<void> {
    const customers = [...group.customers];
    for (let i = 0; i < customers.length; i += this.chunk) {
      const rows = await this.source.fingerprints({
        tenant,
        customers: customers.slice(i, i + this.chunk),
        eventTypes: group.types,
        from: new Date(group.from),
        to: new Date(group.to),
      });
      for (const r of rows) {
        const entry = result.get(r.customer);
        if (entry) entry.fingerprint = { eventCount: String(r.event_count), checksum: String(r.checksum) };
      }
    }
  }
}

/** Files each of the item's subscriptions under its usage group; returns the event types its series read. */
function addUsageGroups(groups: Map<string, UsageGroup>, item: UsageItem, entry: CustomerUsage): Set<string> {
  const types = new Set<string>();
  for (const s of item.share.subscriptions) {
    entry.usage[s.subscription] = {};
    const series = seriesOfPlan(item.pricing.plans[s.plan]).map((k) => item.series[k]);
    for (const ref of series) for (const t of ref.meter.eventTypes) types.add(t);
    if (series.length === 0) continue;
    const tz = item.share.timezone;
    const from = startOfDate(s.start, tz);
    const to = startOfDate(s.end, tz);
    const key = [tz, from, to, ...series.map((r) => `${r.key}@${r.version ?? 0}`)].join('|');
    const group = groups.get(key) ?? { tz, from, to, series, members: [] };
    group.members.push({ customer: item.customer, subscription: s.subscription });
    groups.set(key, group);
  }
  return types;
}

function addFingerprintGroup(groups: Map<string, FingerprintGroup>, item: UsageItem, types: string[]): void {
  const { fromMs: from, toMs: to } = item.share;
  const key = [from, to, ...types].join('|');
  const group = groups.get(key) ?? { from, to, types, customers: new Set<string>() };
  group.customers.add(item.customer);
  groups.set(key, group);
}
