import type { KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { AlertRule, Customer, Dataset, Meter, Plan, Subscription, Tenant } from './entities';
import { parseCatalogKey } from './keys';
import { openBucket } from './kv';
import { KvWatcher, type KvWatcherOptions } from './kv-watcher';

/** One change of a tenant, customer, meter or dataset seen by the projection. `value` is undefined when the entity was deleted. */
export type CatalogChange =
  | { kind: 'tenant'; tenant: string; id: string; value?: Tenant; revision: number }
  | { kind: 'customer'; tenant: string; id: string; value?: Customer; revision: number }
  | { kind: 'meter'; tenant: string; id: string; value?: Meter; revision: number }
  | { kind: 'dataset'; tenant: string; id: string; value?: Dataset; revision: number };

export type CatalogProjectionOptions = Pick<KvWatcherOptions, 'onError'>;

/**
 * THE in-memory view of the catalog: tenants, customers, meters, datasets, plans, subscriptions and
 * alert rules, kept current by one watch on the bucket, so that hot paths (the gateway's rate limits,
 * the writer's known-customer check, the usage API's current period, the billing run's pages of
 * customers) read synchronously and pick up changes without a restart. Changes made anywhere show up
 * here typically within milliseconds. One projection per process, shared by every reader, so that
 * usage and billing see the same subscriptions.
 */
export class CatalogProjection {
  private readonly tenants = new Map<string, Tenant>();
  private readonly customers = new Map<string, Map<string, Customer>>();
  private readonly meters = new Map<string, Map<string, Meter>>();
  private readonly datasets = new Map<string, Map<string, Dataset>>();
  private readonly plans = new Map<string, Map<string, Plan>>();
  private readonly alertRules = new Map<string, Map<string, AlertRule>>();
  /** tenant → customer → subscription id → subscription (a billing run pages by customer). */
  private readonly subscriptions = new Map<string, Map<string, Map<string, Subscription>>>();
  /** tenant → subscription id → customer (to find the entry to drop when a subscription is deleted). */
  private readonly subscriptionOwners = new Map<string, Map<string, string>>();
  private readonly listeners = new Set<(change: CatalogChange) => void>();
  private watcher!: KvWatcher;

  private constructor(private readonly options: CatalogProjectionOptions) {}

  /**
   * Starts following the catalog and resolves once its current contents are in memory, so that the
   * first lookups after start-up already see every tenant, customer and meter.
   */
  static async open(
    nc: NatsConnection,
    names: NatsNames,
    options: CatalogProjectionOptions = {},
  ): Promise<CatalogProjection> {
    const kv = await openBucket(nc, names.catalogBucket);
    const cache = new CatalogProjection(options);
    cache.watcher = KvWatcher.start(kv, (entry) => cache.apply(entry), {
      onError: options.onError,
      connectionClosed: () => nc.isClosed(),
    });
    await cache.untilReady();
    return cache;
  }

  private async untilReady(): Promise<void> {
    try {
      await this.watcher.ready();
    } catch (error) {
      await this.watcher.stop();
      throw error;
    }
  }

  /** Resolves once the snapshot is loaded (already the case when `open` has resolved). */
  ready(): Promise<void> {
    return this.watcher.ready();
  }

  /** Calls `listener` for every change after the call; returns a function that unsubscribes. */
  onChange(listener: (change: CatalogChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  getTenant(id: string): Tenant | undefined {
    return this.tenants.get(id);
  }

  listTenants(): Tenant[] {
    return [...this.tenants.values()];
  }

  getCustomer(tenant: string, id: string): Customer | undefined {
    return this.customers.get(tenant)?.get(id);
  }

  hasCustomer(tenant: string, id: string): boolean {
    return this.customers.get(tenant)?.has(id) ?? false;
  }

  listCustomers(tenant: string): Customer[] {
    return [...(this.customers.get(tenant)?.values() ?? [])];
  }

  getMeter(tenant: string, key: string): Meter | undefined {
    return this.meters.get(tenant)?.get(key);
  }

  listMeters(tenant: string): Meter[] {
    return [...(this.meters.get(tenant)?.values() ?? [])];
  }

  /** A tenant's Analytics Engine dataset declaration (the gateway's sampling, the SQL API's tables). */
  getDataset(tenant: string, name: string): Dataset | undefined {
    return this.datasets.get(tenant)?.get(name);
  }

  listDatasets(tenant: string): Dataset[] {
    return [...(this.datasets.get(tenant)?.values() ?? [])];
  }

  getPlan(tenant: string, id: string): Plan | undefined {
    return this.plans.get(tenant)?.get(id);
  }

  /** A customer's subscriptions (any state: past, active and future). */
  subscriptionsOf(tenant: string, customer: string): Subscription[] {
    return [...(this.subscriptions.get(tenant)?.get(customer)?.values() ?? [])];
  }

  /** The tenant's customers that have at least one subscription, sorted (a stable order to page in). */
  customersWithSubscriptions(tenant: string): string[] {
    return [...(this.subscriptions.get(tenant)?.keys() ?? [])].sort();
  }

  /** Every subscription of the tenant. */
  listSubscriptions(tenant: string): Subscription[] {
    return [...(this.subscriptions.get(tenant)?.values() ?? [])].flatMap((subs) => [...subs.values()]);
  }

  listAlertRules(tenant: string): AlertRule[] {
    return [...(this.alertRules.get(tenant)?.values() ?? [])];
  }

  /** Tenants that have at least one alert rule. */
  tenantsWithAlertRules(): string[] {
    return [...this.alertRules.keys()];
  }

  /** The last catalog revision applied (0 before the first). */
  get revision(): number {
    return this.watcher.revision;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.watcher.stop();
  }

  private apply(entry: KvWatchEntry): void {
    const key = parseCatalogKey(entry.key);
    if (!key || key.kind === 'meter_version') return;
    const live = entry.operation === 'PUT';
    let change: CatalogChange;
    switch (key.kind) {
      case 'plan':
        return setIn(this.plans, key.tenant, key.id, live ? entry.json<Plan>() : undefined);
      case 'alert_rule':
        return setIn(this.alertRules, key.tenant, key.id, live ? entry.json<AlertRule>() : undefined);
      case 'subscription':
        return this.applySubscription(key.tenant, key.id, live ? entry.json<Subscription>() : undefined);
      case 'tenant': {
        const value = live ? entry.json<Tenant>() : undefined;
        if (value) this.tenants.set(key.tenant, value);
        else this.tenants.delete(key.tenant);
        change = { kind: 'tenant', tenant: key.tenant, id: key.tenant, value, revision: entry.revision };
        break;
      }
      case 'customer': {
        const value = live ? entry.json<Customer>() : undefined;
        setIn(this.customers, key.tenant, key.id, value);
        change = { kind: 'customer', tenant: key.tenant, id: key.id, value, revision: entry.revision };
        break;
      }
      case 'meter': {
        const value = live ? entry.json<Meter>() : undefined;
        setIn(this.meters, key.tenant, key.key, value);
        change = { kind: 'meter', tenant: key.tenant, id: key.key, value, revision: entry.revision };
        break;
      }
      case 'dataset': {
        const value = live ? entry.json<Dataset>() : undefined;
        setIn(this.datasets, key.tenant, key.id, value);
        change = { kind: 'dataset', tenant: key.tenant, id: key.id, value, revision: entry.revision };
        break;
      }
    }
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.options.onError?.(error);
      }
    }
  }

  private applySubscription(tenant: string, id: string, sub: Subscription | undefined): void {
    const owners = this.subscriptionOwners.get(tenant) ?? new Map<string, string>();
    this.subscriptionOwners.set(tenant, owners);
    const byCustomer = this.subscriptions.get(tenant) ?? new Map<string, Map<string, Subscription>>();
    this.subscriptions.set(tenant, byCustomer);
    const previous = owners.get(id);
    if (previous !== undefined) {
      const subs = byCustomer.get(previous);
      subs?.delete(id);
      if (subs && subs.size === 0) byCustomer.delete(previous);
      owners.delete(id);
    }
    if (!sub) return;
    const subs = byCustomer.get(sub.customer) ?? new Map<string, Subscription>();
    subs.set(id, sub);
    byCustomer.set(sub.customer, subs);
    owners.set(id, sub.customer);
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
