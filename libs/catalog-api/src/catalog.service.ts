import {
  alertRuleSchema,
  meterInputSchema,
  planSchema,
  subscriptionSchema,
  tenantSchema,
  type AlertRule,
  type AlertRuleInput,
  type Customer,
  type CustomerInput,
  type Meter,
  type MeterInput,
  type Plan,
  type PlanInput,
  type Subscription,
  type SubscriptionInput,
  type Tenant,
  type TenantInput,
  type Versioned,
} from '@tally/catalog';
import { type FieldIssue, NotFoundError, ValidationFailedError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import { checkWebhookDestination, WebhookDestinationError, WebhookDestinationPolicy } from '@tally/catalog';
import { EntityResource } from './entity-resource';
import type { CatalogCachePort, CatalogPort } from './ports';
import { customerInputSchema } from './schemas';
import type { DecodedWrite } from './write-body';

/** What this instance's in-memory catalog holds for a tenant: what hot paths (usage queries) see. */
export interface CatalogCacheView {
  tenant: string;
  /** Last catalog revision this instance applied; compare with the `revision` a write returned. */
  revision: number;
  tenantLoaded: boolean;
  customers: number;
  meters: Array<{ key: string; version: number }>;
}

/**
 * The catalog of one tenant as the HTTP API exposes it. Each method takes the tenant of the
 * caller's API key; validation, references and revisions are enforced by `CatalogStore`.
 */
export class CatalogService {
  readonly customers: EntityResource<Customer>;
  readonly meters: EntityResource<Meter>;
  readonly plans: EntityResource<Plan>;
  readonly subscriptions: EntityResource<Subscription, { customer?: string }>;
  readonly alertRules: EntityResource<AlertRule>;

  constructor(
    private readonly store: CatalogPort,
    private readonly cache: CatalogCachePort,
    /** Where alert-rule webhooks may point (docs/security.md#webhooks): public addresses unless allowed. */
    webhookDestinations: WebhookDestinationPolicy = new WebhookDestinationPolicy(),
  ) {
    this.customers = new EntityResource<Customer>({
      what: 'Customer',
      idField: 'id',
      idOf: (c) => c.id,
      schema: customerInputSchema,
      get: (tenant, id) => store.getCustomer(tenant, id),
      list: (tenant) => store.listCustomers(tenant),
      put: (input, options) => store.putCustomer(input as CustomerInput, options),
      delete: (tenant, id, options) => store.deleteCustomer(tenant, id, options),
    });
    this.meters = new EntityResource<Meter>({
      what: 'Meter',
      idField: 'key',
      idOf: (m) => m.key,
      schema: meterInputSchema,
      get: (tenant, key) => store.getMeter(tenant, key),
      list: (tenant) => store.listMeters(tenant),
      put: (input, options) => store.putMeter(input as MeterInput, options),
      delete: (tenant, key, options) => store.deleteMeter(tenant, key, options),
    });
    this.plans = new EntityResource<Plan>({
      what: 'Plan',
      idField: 'id',
      idOf: (p) => p.id,
      schema: planSchema,
      get: (tenant, id) => store.getPlan(tenant, id),
      list: (tenant) => store.listPlans(tenant),
      put: (input, options) => store.putPlan(input as PlanInput, options),
      delete: (tenant, id, options) => store.deletePlan(tenant, id, options),
    });
    this.subscriptions = new EntityResource<Subscription, { customer?: string }>({
      what: 'Subscription',
      idField: 'id',
      idOf: (s) => s.id,
      schema: subscriptionSchema,
      get: (tenant, id) => store.getSubscription(tenant, id),
      list: (tenant, filter) => store.listSubscriptions(tenant, filter),
      put: (input, options) => store.putSubscription(input as SubscriptionInput, options),
      delete: (tenant, id, options) => store.deleteSubscription(tenant, id, options),
    });
    this.alertRules = new EntityResource<AlertRule>({
      what: 'Alert rule',
      idField: 'id',
      idOf: (r) => r.id,
      schema: alertRuleSchema,
      get: (tenant, id) => store.getAlertRule(tenant, id),
      list: (tenant) => store.listAlertRules(tenant),
      put: (input, options) => store.putAlertRule(input as AlertRuleInput, options),
      delete: (tenant, id, options) => store.deleteAlertRule(tenant, id, options),
      present: presentAlertRule,
      prepare: (input, existing) => prepareAlertRule(input, existing, webhookDestinations),
    });
  }

  async getTenant(tenant: string): Promise<Versioned<Tenant>> {
    const found = await this.store.getTenant(tenant);
    if (!found) throw new NotFoundError('Tenant', tenant);
    return found;
  }

  validateTenant(input: Record<string, unknown>): FieldIssue[] {
    const parsed = tenantSchema.safeParse(input);
    return parsed.success ? [] : fieldIssuesFromZod(parsed.error);
  }

  /** Creates or changes the caller's own tenant (its id is the key's tenant). */
  async putTenant(tenant: string, write: DecodedWrite): Promise<Versioned<Tenant>> {
    const expectedRevision = write.conditions.mustExist
      ? (await this.getTenant(tenant)).revision
      : write.conditions.expectedRevision;
    return this.store.putTenant(write.input as TenantInput, { expectedRevision });
  }

  /** Every version a meter has had, ascending (also after the meter was deleted). */
  async meterVersions(
    tenant: string,
    key: string,
  ): Promise<{ key: string; current?: number; versions: number[] }> {
    const [stored, current] = await Promise.all([
      this.store.listMeterVersions(tenant, key),
      this.store.getMeter(tenant, key),
    ]);
    // The copy of the current version may not be written yet (it follows the write that made it current).
    const versions = [...new Set([...stored, ...(current ? [current.value.version] : [])])].sort(
      (a, b) => a - b,
    );
    if (versions.length === 0) throw new NotFoundError('Meter', key);
    return { key, current: current?.value.version, versions };
  }

  /** The definition a meter had at `version`, as text from the URL. */
  async meterVersion(tenant: string, key: string, versionText: string): Promise<Meter> {
    const version = /^\d{1,9}$/.test(versionText) ? Number(versionText) : NaN;
    if (!(version >= 1)) {
      throw new ValidationFailedError([
        { field: 'version', code: 'INVALID_VALUE', message: 'must be a version number (1, 2, ...)' },
      ]);
    }
    const meter = await this.store.getMeterVersion(tenant, key, version);
    if (!meter) throw new NotFoundError('Meter version', `${key}@${version}`);
    return meter;
  }

  cacheView(tenant: string): CatalogCacheView {
    return {
      tenant,
      revision: this.cache.revision,
      tenantLoaded: this.cache.getTenant(tenant) !== undefined,
      customers: this.cache.listCustomers(tenant).length,
      meters: this.cache
        .listMeters(tenant)
        .map((m) => ({ key: m.key, version: m.version }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    };
  }
}

/** The JSON a read or write returns: the entity and its revision (also sent as `ETag`). */
export function withRevision<T extends object>(versioned: Versioned<T>): T & { revision: number } {
  return { ...versioned.value, revision: versioned.revision };
}

/**
 * An alert rule as clients see it: the webhook secret is write-only (a query key reads rules), so only
 * whether one is set is shown. Rotate it by writing a new one.
 */
export function presentAlertRule(rule: AlertRule): AlertRule {
  if (rule.webhookSecret === undefined) return rule;
  const { webhookSecret: _secret, ...rest } = rule;
  return { ...rest, webhookSecretSet: true } as AlertRule;
}

/**
 * Before an alert rule is stored: its webhook URL must resolve to addresses Tally may send to (SSRF),
 * and a write that names no secret keeps the stored one, since clients never get it back to resend.
 */
export async function prepareAlertRule(
  input: Record<string, unknown>,
  existing: AlertRule | undefined,
  destinations: WebhookDestinationPolicy,
): Promise<Record<string, unknown>> {
  const out = keepStoredWebhookSecret(input, existing);
  if (typeof out.webhookUrl === 'string') {
    try {
      await checkWebhookDestination(out.webhookUrl, destinations);
    } catch (error) {
      if (!(error instanceof WebhookDestinationError)) throw error;
      throw new ValidationFailedError([{ field: 'webhookUrl', code: error.code, message: error.message }]);
    }
  }
  return out;
}

/**
 * An alert rule write as it is stored: `webhookSecretSet` (what reads show) is dropped and a write that
 * names no secret keeps the stored one, since no client (API, `tally catalog export`) ever gets it back
 * to resend.
 */
export function keepStoredWebhookSecret(
  input: Record<string, unknown>,
  existing: { webhookSecret?: unknown } | undefined,
): Record<string, unknown> {
  const out = { ...input };
  delete out.webhookSecretSet;
  if (out.webhookSecret === undefined && existing?.webhookSecret !== undefined) out.webhookSecret = existing.webhookSecret;
  return out;
}
