import type { KV } from '@nats-io/kv';
import { ConflictError, type FieldIssue, NotFoundError } from '@tally/errors';
import type { NatsConnection, NatsNames } from '@tally/nats';
import {
  type AlertRule,
  type AlertRuleInput,
  alertRuleSchema,
  type Dataset,
  type DatasetInput,
  datasetSchema,
  type Customer,
  type CustomerInput,
  customerSchema,
  type Meter,
  type MeterInput,
  meterInputSchema,
  parseEntity,
  type Plan,
  type PlanInput,
  planSchema,
  type Subscription,
  type SubscriptionInput,
  subscriptionSchema,
  type Tenant,
  type TenantInput,
  tenantSchema,
  validationError,
} from './entities';
import { appendOnlyCredits } from './credit-ledger-rules';
import { catalogKeys as K } from './keys';
import {
  getJson,
  isRevisionConflict,
  listJson,
  listKeys,
  openBucket,
  revisionConflict,
  type Versioned,
  writeJson,
  type WriteOptions,
} from './kv';

export interface CatalogStoreOptions {
  /** The clock for `createdAt`; injected so tests are deterministic. */
  now?: () => Date;
}

/** Attempts of a meter write that lost a race to a concurrent writer without `expectedRevision`. */
const METER_WRITE_ATTEMPTS = 5;

/**
 * Tenants, customers, meters, plans, subscriptions and alert rules in the catalog KV bucket.
 *
 * Every read returns `{ value, revision }`; every write accepts `expectedRevision` (0 = create) and
 * fails with `ConflictError('REVISION_CONFLICT')` (HTTP 409) when someone else wrote first. Inputs are
 * validated with the entity schemas (`ValidationFailedError`, HTTP 422, every issue with its path), and
 * references are checked: a customer needs its tenant, a subscription its customer and plan, a plan's
 * charges existing meters, an alert rule its meter.
 *
 * Services that only read should use `CatalogProjection` (in memory, kept current by a watch) instead.
 */
export class CatalogStore {
  private constructor(
    private readonly kv: KV,
    private readonly now: () => Date,
  ) {}

  static async open(
    nc: NatsConnection,
    names: NatsNames,
    options: CatalogStoreOptions = {},
  ): Promise<CatalogStore> {
    return new CatalogStore(await openBucket(nc, names.catalogBucket), options.now ?? (() => new Date()));
  }

  // ------------------------------------------------------------------------------------------ tenants

  getTenant(id: string): Promise<Versioned<Tenant> | undefined> {
    return getJson<Tenant>(this.kv, K.tenant(safeToken(id)));
  }

  async putTenant(input: TenantInput, options: WriteOptions = {}): Promise<Versioned<Tenant>> {
    const tenant = parseEntity(tenantSchema, input, 'tenant');
    const revision = await writeJson(this.kv, K.tenant(tenant.id), tenant, options, 'Tenant', tenant.id);
    return { value: tenant, revision };
  }

  async listTenants(): Promise<Array<Versioned<Tenant>>> {
    return listJson<Tenant>(this.kv, K.tenants());
  }

  /** Refused with `ConflictError('TENANT_NOT_EMPTY')` while the tenant still owns anything. */
  async deleteTenant(id: string, options: WriteOptions = {}): Promise<void> {
    for (const filter of K.ownedBy(safeToken(id))) {
      if ((await listKeys(this.kv, filter)).length > 0) {
        throw new ConflictError(
          'TENANT_NOT_EMPTY',
          `Tenant '${id}' still has ${filter.split('.')[0]} entries; delete them first`,
        );
      }
    }
    await this.remove(K.tenant(safeToken(id)), options, 'Tenant', id);
  }

  // ---------------------------------------------------------------------------------------- customers

  getCustomer(tenant: string, id: string): Promise<Versioned<Customer> | undefined> {
    return getJson<Customer>(this.kv, K.customer(safeToken(tenant), id));
  }

  /** Creates or replaces a customer. `createdAt` is kept from the stored customer, else set to now. */
  async putCustomer(input: CustomerInput, options: WriteOptions = {}): Promise<Versioned<Customer>> {
    const existing =
      input && typeof input === 'object' && typeof input.tenant === 'string' && typeof input.id === 'string'
        ? await this.getCustomer(input.tenant, input.id).catch(() => undefined)
        : undefined;
    const createdAt = input?.createdAt ?? existing?.value.createdAt ?? this.now().toISOString();
    const parsed = parseEntity(customerSchema, { ...input, createdAt }, 'customer');
    await this.requireTenant(parsed.tenant);
    // A write from a stale read is a conflict (retry), not an edit of the ledger it never saw.
    if (options.expectedRevision !== undefined && options.expectedRevision !== (existing?.revision ?? 0))
      throw revisionConflict('Customer', parsed.id);
    const credits = appendOnlyCredits(existing?.value.billing?.credits ?? [], parsed.billing?.credits ?? []);
    const customer = credits.length ? { ...parsed, billing: { ...parsed.billing, credits } } : parsed;
    const revision = await writeJson(
      this.kv,
      K.customer(customer.tenant, customer.id),
      customer,
      options,
      'Customer',
      customer.id,
    );
    return { value: customer, revision };
  }

  listCustomers(tenant: string): Promise<Array<Versioned<Customer>>> {
    return listJson<Customer>(this.kv, K.customers(safeToken(tenant)));
  }

  deleteCustomer(tenant: string, id: string, options: WriteOptions = {}): Promise<void> {
    return this.remove(K.customer(safeToken(tenant), id), options, 'Customer', id);
  }

  // ------------------------------------------------------------------------------------------- meters

  getMeter(tenant: string, key: string): Promise<Versioned<Meter> | undefined> {
    return getJson<Meter>(this.kv, K.meter(safeToken(tenant), safeToken(key)));
  }

  listMeters(tenant: string): Promise<Array<Versioned<Meter>>> {
    return listJson<Meter>(this.kv, K.meters(safeToken(tenant)));
  }

  /**
   * The definition a meter had at `version` (as long as it was ever current), e.g. the one an issued
   * invoice was computed with.
   */
  async getMeterVersion(tenant: string, key: string, version: number): Promise<Meter | undefined> {
    if (!Number.isSafeInteger(version) || version < 1) return undefined;
    const stored = await getJson<Meter>(this.kv, K.meterVersion(safeToken(tenant), safeToken(key), version));
    if (stored) return stored.value;
    // The copy is written right after the definition becomes current; until then, current is that version.
    const current = await this.getMeter(tenant, key);
    return current?.value.version === version ? current.value : undefined;
  }

  /** Every version number stored for a meter, ascending. */
  async listMeterVersions(tenant: string, key: string): Promise<number[]> {
    const keys = await listKeys(this.kv, K.meterVersions(safeToken(tenant), safeToken(key)));
    return keys.map((k) => Number(k.slice(k.lastIndexOf('.') + 1))).sort((a, b) => a - b);
  }

  /**
   * Creates or changes a meter. A changed definition gets the next `version`; writing the same
   * definition again changes nothing (same version, same revision).
   *
   * Every version is also stored under its own key. The copy of version n is written from the current
   * record only after the conditional write that made n current succeeded, so a copy is always exactly
   * what was current; a copy missed by a crash is written by the next change (or read from current).
   */
  async putMeter(input: MeterInput, options: WriteOptions = {}): Promise<Versioned<Meter>> {
    const definition = withoutVersion(parseEntity(meterInputSchema, input, 'meter'));
    await this.requireTenant(definition.tenant);
    const key = K.meter(definition.tenant, definition.key);
    for (let attempt = 1; ; attempt++) {
      const current = await getJson<Meter>(this.kv, key);
      const expected = options.expectedRevision;
      if (expected !== undefined && expected !== (current?.revision ?? 0)) {
        throw revisionConflict('Meter', definition.key);
      }
      if (current && sameDefinition(current.value, definition)) return current;
      let version: number;
      if (current) {
        await this.storeMeterVersion(current.value);
        version = current.value.version + 1;
      } else {
        // A meter deleted and created again continues its numbering: old versions stay valid.
        version = Math.max(0, ...(await this.listMeterVersions(definition.tenant, definition.key))) + 1;
      }
      const meter: Meter = { ...definition, version };
      let revision: number;
      try {
        revision = await writeJson(
          this.kv,
          key,
          meter,
          { expectedRevision: current?.revision ?? 0 },
          'Meter',
          meter.key,
        );
      } catch (error) {
        if (expected === undefined && attempt < METER_WRITE_ATTEMPTS && isConflict(error)) continue;
        throw error;
      }
      // Best effort: if this fails, the next change or getMeterVersion's fallback covers it.
      await this.storeMeterVersion(meter).catch(() => undefined);
      return { value: meter, revision };
    }
  }

  /** Deletes the current definition; its versions stay readable with `getMeterVersion`. */
  async deleteMeter(tenant: string, key: string, options: WriteOptions = {}): Promise<void> {
    const current = await this.getMeter(tenant, key);
    if (current) await this.storeMeterVersion(current.value);
    await this.remove(K.meter(safeToken(tenant), safeToken(key)), options, 'Meter', key);
  }

  private async storeMeterVersion(meter: Meter): Promise<void> {
    try {
      await this.kv.create(K.meterVersion(meter.tenant, meter.key, meter.version), JSON.stringify(meter));
    } catch (error) {
      if (!isRevisionConflict(error)) throw error; // already stored: versions are immutable
    }
  }

  // -------------------------------------------------------------------------------------------- plans

  getPlan(tenant: string, id: string): Promise<Versioned<Plan> | undefined> {
    return getJson<Plan>(this.kv, K.plan(safeToken(tenant), safeToken(id)));
  }

  listPlans(tenant: string): Promise<Array<Versioned<Plan>>> {
    return listJson<Plan>(this.kv, K.plans(safeToken(tenant)));
  }

  /** Validated with `@tally/pricing`'s `validatePlan`; every charge's `meter` (or `meter:profile`) must exist. */
  async putPlan(input: PlanInput, options: WriteOptions = {}): Promise<Versioned<Plan>> {
    const plan = parseEntity(planSchema, input, 'plan');
    await this.requireTenant(plan.tenant);
    const issues: FieldIssue[] = [];
    for (const [i, charge] of plan.charges.entries()) {
      if (typeof charge.meter !== 'string') continue;
      const [meterKey, profile] = charge.meter.split(':', 2);
      const meter = /^[a-z][a-z0-9_]{0,62}$/.test(meterKey)
        ? await this.getMeter(plan.tenant, meterKey)
        : undefined;
      if (!meter) {
        issues.push({
          field: `charges[${i}].meter`,
          code: 'UNKNOWN_METER',
          message: `meter '${meterKey}' does not exist`,
        });
      } else if (profile !== undefined && !meter.value.profiles.some((p) => p.key === profile)) {
        issues.push({
          field: `charges[${i}].meter`,
          code: 'UNKNOWN_PROFILE',
          message: `meter '${meterKey}' has no profile '${profile}'`,
        });
      }
    }
    if (issues.length) throw validationError(issues, 'plan');
    const revision = await writeJson(this.kv, K.plan(plan.tenant, plan.id), plan, options, 'Plan', plan.id);
    return { value: plan, revision };
  }

  deletePlan(tenant: string, id: string, options: WriteOptions = {}): Promise<void> {
    return this.remove(K.plan(safeToken(tenant), safeToken(id)), options, 'Plan', id);
  }

  // ------------------------------------------------------------------------------------ subscriptions

  getSubscription(tenant: string, id: string): Promise<Versioned<Subscription> | undefined> {
    return getJson<Subscription>(this.kv, K.subscription(safeToken(tenant), safeToken(id)));
  }

  /** All of a tenant's subscriptions, or only one customer's. */
  async listSubscriptions(
    tenant: string,
    filter: { customer?: string } = {},
  ): Promise<Array<Versioned<Subscription>>> {
    const all = await listJson<Subscription>(this.kv, K.subscriptions(safeToken(tenant)));
    return filter.customer === undefined ? all : all.filter((s) => s.value.customer === filter.customer);
  }

  async putSubscription(
    input: SubscriptionInput,
    options: WriteOptions = {},
  ): Promise<Versioned<Subscription>> {
    const sub = parseEntity(subscriptionSchema, input, 'subscription');
    await this.requireTenant(sub.tenant);
    const issues: FieldIssue[] = [];
    if (!(await this.getCustomer(sub.tenant, sub.customer))) {
      issues.push({
        field: 'customer',
        code: 'UNKNOWN_CUSTOMER',
        message: `customer '${sub.customer}' does not exist`,
      });
    }
    if (!(await this.getPlan(sub.tenant, sub.plan))) {
      issues.push({ field: 'plan', code: 'UNKNOWN_PLAN', message: `plan '${sub.plan}' does not exist` });
    }
    if (issues.length) throw validationError(issues, 'subscription');
    const revision = await writeJson(
      this.kv,
      K.subscription(sub.tenant, sub.id),
      sub,
      options,
      'Subscription',
      sub.id,
    );
    return { value: sub, revision };
  }

  deleteSubscription(tenant: string, id: string, options: WriteOptions = {}): Promise<void> {
    return this.remove(K.subscription(safeToken(tenant), safeToken(id)), options, 'Subscription', id);
  }

  // -------------------------------------------------------------------------------------- alert rules

  getAlertRule(tenant: string, id: string): Promise<Versioned<AlertRule> | undefined> {
    return getJson<AlertRule>(this.kv, K.alertRule(safeToken(tenant), safeToken(id)));
  }

  listAlertRules(tenant: string): Promise<Array<Versioned<AlertRule>>> {
    return listJson<AlertRule>(this.kv, K.alertRules(safeToken(tenant)));
  }

  async putAlertRule(input: AlertRuleInput, options: WriteOptions = {}): Promise<Versioned<AlertRule>> {
    const rule = parseEntity(alertRuleSchema, input, 'alert rule');
    await this.requireTenant(rule.tenant);
    const issues: FieldIssue[] = [];
    const meter = await this.getMeter(rule.tenant, rule.meter);
    if (!meter) {
      issues.push({ field: 'meter', code: 'UNKNOWN_METER', message: `meter '${rule.meter}' does not exist` });
    } else if (rule.profile !== undefined && !meter.value.profiles.some((p) => p.key === rule.profile)) {
      issues.push({
        field: 'profile',
        code: 'UNKNOWN_PROFILE',
        message: `meter '${rule.meter}' has no profile '${rule.profile}'`,
      });
    }
    if (rule.customer !== undefined && !(await this.getCustomer(rule.tenant, rule.customer))) {
      issues.push({
        field: 'customer',
        code: 'UNKNOWN_CUSTOMER',
        message: `customer '${rule.customer}' does not exist`,
      });
    }
    if (issues.length) throw validationError(issues, 'alert rule');
    const revision = await writeJson(
      this.kv,
      K.alertRule(rule.tenant, rule.id),
      rule,
      options,
      'Alert rule',
      rule.id,
    );
    return { value: rule, revision };
  }

  deleteAlertRule(tenant: string, id: string, options: WriteOptions = {}): Promise<void> {
    return this.remove(K.alertRule(safeToken(tenant), safeToken(id)), options, 'Alert rule', id);
  }

  // ----------------------------------------------------------------------------------------- datasets

  getDataset(tenant: string, name: string): Promise<Versioned<Dataset> | undefined> {
    return getJson<Dataset>(this.kv, K.dataset(safeToken(tenant), safeToken(name)));
  }

  listDatasets(tenant: string): Promise<Array<Versioned<Dataset>>> {
    return listJson<Dataset>(this.kv, K.datasets(safeToken(tenant)));
  }

  /** Declares (or re-declares) a dataset: its kind and, for analytics datasets, its sampling budget. */
  async putDataset(input: DatasetInput, options: WriteOptions = {}): Promise<Versioned<Dataset>> {
    const dataset = parseEntity(datasetSchema, input, 'dataset');
    await this.requireTenant(dataset.tenant);
    const revision = await writeJson(
      this.kv,
      K.dataset(dataset.tenant, dataset.name),
      dataset,
      options,
      'Dataset',
      dataset.name,
    );
    return { value: dataset, revision };
  }

  /**
   * The stored declaration of a dataset, or `input` stored as its declaration when there is none (the
   * gateway creates undeclared datasets on their first data point). Never overwrites: when several
   * gateways race, one creates it and the others read what it created.
   */
  async ensureDataset(input: DatasetInput): Promise<Versioned<Dataset>> {
    const dataset = parseEntity(datasetSchema, input, 'dataset');
    const existing = await this.getDataset(dataset.tenant, dataset.name);
    if (existing) return existing;
    try {
      return await this.putDataset(dataset, { expectedRevision: 0 });
    } catch (error) {
      const raced = isConflict(error) ? await this.getDataset(dataset.tenant, dataset.name) : undefined;
      if (raced) return raced;
      throw error;
    }
  }

  deleteDataset(tenant: string, name: string, options: WriteOptions = {}): Promise<void> {
    return this.remove(K.dataset(safeToken(tenant), safeToken(name)), options, 'Dataset', name);
  }

  // ------------------------------------------------------------------------------------------ helpers

  private async requireTenant(tenant: string): Promise<void> {
    if (!(await this.getTenant(tenant))) throw new NotFoundError('Tenant', tenant);
  }

  /** Deletes a live key (`NotFoundError` if there is none), honouring `expectedRevision`. */
  private async remove(key: string, options: WriteOptions, what: string, id: string): Promise<void> {
    const current = await getJson<unknown>(this.kv, key);
    if (!current) throw new NotFoundError(what, id);
    if (options.expectedRevision !== undefined && options.expectedRevision !== current.revision) {
      throw revisionConflict(what, id);
    }
    try {
      await this.kv.delete(key, { previousSeq: options.expectedRevision ?? current.revision });
    } catch (error) {
      if (isRevisionConflict(error)) throw revisionConflict(what, id, error);
      throw error;
    }
  }
}

function withoutVersion<T extends { version?: unknown }>(meter: T): Omit<T, 'version'> {
  const copy = { ...meter };
  delete copy.version;
  return copy;
}

function sameDefinition(stored: Meter, next: Omit<Meter, 'version'>): boolean {
  return JSON.stringify(withoutVersion(stored)) === JSON.stringify(next);
}

function isConflict(error: unknown): boolean {
  return error instanceof ConflictError && error.code === 'REVISION_CONFLICT';
}

/**
 * Ids arriving in lookups (URL path segments) are not validated like stored entities; anything that
 * is not a single key token cannot exist, so it is mapped to a token that matches nothing.
 */
function safeToken(id: string): string {
  return typeof id === 'string' && /^[-_=a-zA-Z0-9]+$/.test(id) ? id : '_invalid_';
}
