import type { KvWatchEntry } from '@nats-io/kv';
import {
  type AlertRule,
  KvWatcher,
  parseCatalogKey,
  watchCatalog,
  type Plan,
  type Subscription,
} from '@tally/catalog';
import type { NatsConnection, NatsNames } from '@tally/nats';

/**
 * The plans, subscriptions and alert rules of the catalog, in memory and kept current by a watch on
 * the catalog bucket (`CatalogCache` keeps tenants, customers and meters the same way). Current usage
 * and entitlement checks need a customer's subscription and plan on every request; reading them from
 * KV each time would cost more than the whole 50 ms budget.
 */
export class BillingCatalog {
  private readonly plans = new Map<string, Map<string, Plan>>();
  private readonly subscriptions = new Map<string, Map<string, Subscription>>();
  private readonly alertRules = new Map<string, Map<string, AlertRule>>();
  private watcher!: KvWatcher;

  /** Starts following the catalog bucket; resolves once its current contents are in memory. */
  static async open(
    nc: NatsConnection,
    names: NatsNames,
    onError?: (error: unknown) => void,
  ): Promise<BillingCatalog> {
    const catalog = new BillingCatalog();
    catalog.watcher = await watchCatalog(nc, names, (entry) => catalog.apply(entry), onError);
    return catalog;
  }

  getPlan(tenant: string, id: string): Plan | undefined {
    return this.plans.get(tenant)?.get(id);
  }

  /** A customer's subscriptions (any state: past, active and future). */
  subscriptionsOf(tenant: string, customer: string): Subscription[] {
    const all = this.subscriptions.get(tenant);
    if (!all) return [];
    return [...all.values()].filter((s) => s.customer === customer);
  }

  /** Every subscription of the tenant. */
  listSubscriptions(tenant: string): Subscription[] {
    return [...(this.subscriptions.get(tenant)?.values() ?? [])];
  }

  listAlertRules(tenant: string): AlertRule[] {
    return [...(this.alertRules.get(tenant)?.values() ?? [])];
  }

  /** Tenants that have at least one alert rule. */
  tenantsWithAlertRules(): string[] {
    return [...this.alertRules.keys()];
  }

  async close(): Promise<void> {
    await this.watcher.stop();
  }

  private apply(entry: KvWatchEntry): void {
    const key = parseCatalogKey(entry.key);
    if (!key) return;
    const live = entry.operation === 'PUT';
    switch (key.kind) {
      case 'plan':
        return setIn(this.plans, key.tenant, key.id, live ? entry.json<Plan>() : undefined);
      case 'subscription':
        return setIn(this.subscriptions, key.tenant, key.id, live ? entry.json<Subscription>() : undefined);
      case 'alert_rule':
        return setIn(this.alertRules, key.tenant, key.id, live ? entry.json<AlertRule>() : undefined);
      default:
        return;
    }
  }
}

function setIn<T>(maps: Map<string, Map<string, T>>, tenant: string, id: string, value: T | undefined): void {
  let m = maps.get(tenant);
  if (value === undefined) {
    m?.delete(id);
    if (m && m.size === 0) maps.delete(tenant);
    return;
  }
  if (!m) {
    m = new Map();
    maps.set(tenant, m);
  }
  m.set(id, value);
}
