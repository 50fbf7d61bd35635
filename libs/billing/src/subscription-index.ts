import type { KvWatchEntry } from '@nats-io/kv';
import { KvWatcher, parseCatalogKey, watchCatalog, type Plan, type Subscription } from '@tally/catalog';
import type { NatsConnection, NatsNames } from '@tally/nats';

/**
 * Plans and subscriptions of every tenant in memory, indexed by customer, kept current by a watch on
 * the catalog bucket. A billing run pages through a tenant's customers and prices each with its
 * subscriptions' plans; reading those from KV per customer would cost a listing of every subscription
 * of the tenant each time.
 */
export class SubscriptionIndex {
  private readonly plans = new Map<string, Map<string, Plan>>();
  /** tenant → customer → subscription id → subscription */
  private readonly subscriptions = new Map<string, Map<string, Map<string, Subscription>>>();
  /** tenant → subscription id → customer (to find the entry to drop when a subscription is deleted) */
  private readonly owners = new Map<string, Map<string, string>>();
  private watcher!: KvWatcher;

  static async open(
    nc: NatsConnection,
    names: NatsNames,
    onError?: (error: unknown) => void,
  ): Promise<SubscriptionIndex> {
    const index = new SubscriptionIndex();
    index.watcher = await watchCatalog(nc, names, (entry) => index.apply(entry), onError);
    return index;
  }

  getPlan(tenant: string, id: string): Plan | undefined {
    return this.plans.get(tenant)?.get(id);
  }

  subscriptionsOf(tenant: string, customer: string): Subscription[] {
    return [...(this.subscriptions.get(tenant)?.get(customer)?.values() ?? [])];
  }

  /** The tenant's customers that have at least one subscription, sorted (a stable order to page in). */
  customersWithSubscriptions(tenant: string): string[] {
    return [...(this.subscriptions.get(tenant)?.keys() ?? [])].sort();
  }

  /** The catalog revision applied last. */
  get revision(): number {
    return this.watcher.revision;
  }

  async close(): Promise<void> {
    await this.watcher.stop();
  }

  private apply(entry: KvWatchEntry): void {
    const key = parseCatalogKey(entry.key);
    if (!key) return;
    const live = entry.operation === 'PUT';
    if (key.kind === 'plan') {
      const plans = this.plans.get(key.tenant) ?? new Map<string, Plan>();
      if (live) plans.set(key.id, entry.json<Plan>());
      else plans.delete(key.id);
      this.plans.set(key.tenant, plans);
      return;
    }
    if (key.kind !== 'subscription') return;
    const owners = this.owners.get(key.tenant) ?? new Map<string, string>();
    this.owners.set(key.tenant, owners);
    const byCustomer = this.subscriptions.get(key.tenant) ?? new Map<string, Map<string, Subscription>>();
    this.subscriptions.set(key.tenant, byCustomer);
    const previous = owners.get(key.id);
    if (previous !== undefined) {
      const subs = byCustomer.get(previous);
      subs?.delete(key.id);
      if (subs && subs.size === 0) byCustomer.delete(previous);
      owners.delete(key.id);
    }
    if (!live) return;
    const sub = entry.json<Subscription>();
    const subs = byCustomer.get(sub.customer) ?? new Map<string, Subscription>();
    subs.set(sub.id, sub);
    byCustomer.set(sub.customer, subs);
    owners.set(sub.id, sub.customer);
  }
}
