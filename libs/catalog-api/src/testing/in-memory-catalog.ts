import {
  alertRuleSchema,
  apiKeyId,
  appendOnlyCredits,
  customerSchema,
  generateApiKey,
  meterInputSchema,
  parseEntity,
  planSchema,
  subscriptionSchema,
  tenantSchema,
  type ApiKeyRecord,
  type ApiKeyRole,
  type Customer,
  type Meter,
  type Versioned,
  type WriteOptions,
} from '@tally/catalog';
import { ConflictError, NotFoundError, ValidationFailedError, type FieldIssue } from '@tally/errors';
import type { ApiKeyPort, CatalogPort } from '../ports';

type Stored = Versioned<Record<string, unknown>>;

/**
 * `CatalogStore`'s contract in memory, for unit tests of code built on `CatalogPort` (the API services,
 * `catalog apply`, the CLI): same validation schemas, revisions, `expectedRevision` conflicts, meter
 * versions and reference checks. The real store is covered by the catalog's integration tests.
 */
export class InMemoryCatalog implements CatalogPort {
  private readonly entries = new Map<string, Stored>();
  private readonly meterVersions = new Map<string, Meter>();
  private revision = 0;

  constructor(private readonly now: () => Date = () => new Date('2026-01-01T00:00:00.000Z')) {}

  /** Revision of the last write (0 before any). */
  get lastRevision(): number {
    return this.revision;
  }

  getTenant: CatalogPort['getTenant'] = async (id: string) => this.get<never>(`tenant|${id}`);

  putTenant: CatalogPort['putTenant'] = async (input: unknown, options: WriteOptions = {}) => {
    const tenant = parseEntity(tenantSchema, input, 'tenant');
    return this.write(`tenant|${tenant.id}`, tenant, options, 'Tenant', tenant.id) as never;
  };

  getCustomer: CatalogPort['getCustomer'] = async (tenant: string, id: string) =>
    this.get<never>(`customer|${tenant}|${id}`);
  listCustomers: CatalogPort['listCustomers'] = async (tenant: string) =>
    this.list(`customer|${tenant}|`) as never;
  putCustomer: CatalogPort['putCustomer'] = async (
    input: { tenant?: unknown; id?: unknown; createdAt?: string },
    options: WriteOptions = {},
  ) => {
    const existing = this.entries.get(`customer|${String(input?.tenant)}|${String(input?.id)}`);
    const createdAt =
      input?.createdAt ?? (existing?.value.createdAt as string | undefined) ?? this.now().toISOString();
    const parsed = parseEntity(customerSchema, { ...input, createdAt }, 'customer');
    await this.requireTenant(parsed.tenant);
    if (options.expectedRevision !== undefined && options.expectedRevision !== (existing?.revision ?? 0))
      throw conflict('Customer', parsed.id);
    const stored = (existing?.value as Customer | undefined)?.billing?.credits ?? [];
    const credits = appendOnlyCredits(stored, parsed.billing?.credits ?? []);
    const customer = credits.length ? { ...parsed, billing: { ...parsed.billing, credits } } : parsed;
    return this.write(
      `customer|${customer.tenant}|${customer.id}`,
      customer,
      options,
      'Customer',
      customer.id,
    ) as never;
  };
  deleteCustomer: CatalogPort['deleteCustomer'] = async (
    tenant: string,
    id: string,
    options: WriteOptions = {},
  ) => this.remove(`customer|${tenant}|${id}`, options, 'Customer', id);

  getMeter: CatalogPort['getMeter'] = async (tenant: string, key: string) =>
    this.get<never>(`meter|${tenant}|${key}`);
  listMeters: CatalogPort['listMeters'] = async (tenant: string) => this.list(`meter|${tenant}|`) as never;
  putMeter: CatalogPort['putMeter'] = async (input: unknown, options: WriteOptions = {}) => {
    const parsed = parseEntity(meterInputSchema, input, 'meter') as Record<string, unknown>;
    delete parsed.version;
    await this.requireTenant(String(parsed.tenant));
    const key = `meter|${String(parsed.tenant)}|${String(parsed.key)}`;
    const current = this.entries.get(key);
    if (options.expectedRevision !== undefined && options.expectedRevision !== (current?.revision ?? 0)) {
      throw conflict('Meter', String(parsed.key));
    }
    if (current) {
      const { version, ...definition } = current.value;
      if (JSON.stringify(definition) === JSON.stringify(parsed)) return current as never;
      this.meterVersions.set(`${key}|${String(version)}`, current.value as Meter);
    }
    const previous = [...this.meterVersions.keys()]
      .filter((k) => k.startsWith(`${key}|`))
      .map((k) => Number(k.split('|').pop()));
    const version = current ? Number(current.value.version) + 1 : Math.max(0, ...previous) + 1;
    const meter = { ...parsed, version };
    const stored = this.write(
      key,
      meter,
      { expectedRevision: current?.revision ?? 0 },
      'Meter',
      String(parsed.key),
    );
    this.meterVersions.set(`${key}|${version}`, meter as Meter);
    return stored as never;
  };
  deleteMeter: CatalogPort['deleteMeter'] = async (tenant: string, key: string, options: WriteOptions = {}) =>
    this.remove(`meter|${tenant}|${key}`, options, 'Meter', key);
  getMeterVersion: CatalogPort['getMeterVersion'] = async (tenant: string, key: string, version: number) =>
    this.meterVersions.get(`meter|${tenant}|${key}|${version}`);
  listMeterVersions: CatalogPort['listMeterVersions'] = async (tenant: string, key: string) =>
    [...this.meterVersions.keys()]
      .filter((k) => k.startsWith(`meter|${tenant}|${key}|`))
      .map((k) => Number(k.split('|').pop()))
      .sort((a, b) => a - b);

  getPlan: CatalogPort['getPlan'] = async (tenant: string, id: string) =>
    this.get<never>(`plan|${tenant}|${id}`);
  listPlans: CatalogPort['listPlans'] = async (tenant: string) => this.list(`plan|${tenant}|`) as never;
  putPlan: CatalogPort['putPlan'] = async (input: unknown, options: WriteOptions = {}) => {
    const plan = parseEntity(planSchema, input, 'plan');
    await this.requireTenant(plan.tenant);
    const issues: FieldIssue[] = [];
    plan.charges.forEach((charge, i) => {
      if (typeof charge.meter !== 'string') return;
      const [key, profile] = charge.meter.split(':', 2);
      const meter = this.entries.get(`meter|${plan.tenant}|${key}`)?.value as Meter | undefined;
      if (!meter)
        issues.push({
          field: `charges[${i}].meter`,
          code: 'UNKNOWN_METER',
          message: `meter '${key}' does not exist`,
        });
      else if (profile !== undefined && !meter.profiles.some((p) => p.key === profile)) {
        issues.push({
          field: `charges[${i}].meter`,
          code: 'UNKNOWN_PROFILE',
          message: `no profile '${profile}'`,
        });
      }
    });
    if (issues.length) throw new ValidationFailedError(issues, 'Invalid plan');
    return this.write(`plan|${plan.tenant}|${plan.id}`, plan, options, 'Plan', plan.id) as never;
  };
  deletePlan: CatalogPort['deletePlan'] = async (tenant: string, id: string, options: WriteOptions = {}) =>
    this.remove(`plan|${tenant}|${id}`, options, 'Plan', id);

  getSubscription: CatalogPort['getSubscription'] = async (tenant: string, id: string) =>
    this.get<never>(`subscription|${tenant}|${id}`);
  listSubscriptions: CatalogPort['listSubscriptions'] = async (
    tenant: string,
    filter: { customer?: string } = {},
  ) =>
    this.list(`subscription|${tenant}|`).filter(
      (s) => filter.customer === undefined || s.value.customer === filter.customer,
    ) as never;
  putSubscription: CatalogPort['putSubscription'] = async (input: unknown, options: WriteOptions = {}) => {
    const sub = parseEntity(subscriptionSchema, input, 'subscription');
    await this.requireTenant(sub.tenant);
    const issues: FieldIssue[] = [];
    if (!this.entries.has(`customer|${sub.tenant}|${sub.customer}`)) {
      issues.push({
        field: 'customer',
        code: 'UNKNOWN_CUSTOMER',
        message: `customer '${sub.customer}' does not exist`,
      });
    }
    if (!this.entries.has(`plan|${sub.tenant}|${sub.plan}`)) {
      issues.push({ field: 'plan', code: 'UNKNOWN_PLAN', message: `plan '${sub.plan}' does not exist` });
    }
    if (issues.length) throw new ValidationFailedError(issues, 'Invalid subscription');
    return this.write(`subscription|${sub.tenant}|${sub.id}`, sub, options, 'Subscription', sub.id) as never;
  };
  deleteSubscription: CatalogPort['deleteSubscription'] = async (
    tenant: string,
    id: string,
    options: WriteOptions = {},
  ) => this.remove(`subscription|${tenant}|${id}`, options, 'Subscription', id);

  getAlertRule: CatalogPort['getAlertRule'] = async (tenant: string, id: string) =>
    this.get<never>(`alert_rule|${tenant}|${id}`);
  listAlertRules: CatalogPort['listAlertRules'] = async (tenant: string) =>
    this.list(`alert_rule|${tenant}|`) as never;
  putAlertRule: CatalogPort['putAlertRule'] = async (input: unknown, options: WriteOptions = {}) => {
    const rule = parseEntity(alertRuleSchema, input, 'alert rule');
    await this.requireTenant(rule.tenant);
    if (!this.entries.has(`meter|${rule.tenant}|${rule.meter}`)) {
      throw new ValidationFailedError(
        [{ field: 'meter', code: 'UNKNOWN_METER', message: `meter '${rule.meter}' does not exist` }],
        'Invalid alert rule',
      );
    }
    return this.write(`alert_rule|${rule.tenant}|${rule.id}`, rule, options, 'Alert rule', rule.id) as never;
  };
  deleteAlertRule: CatalogPort['deleteAlertRule'] = async (
    tenant: string,
    id: string,
    options: WriteOptions = {},
  ) => this.remove(`alert_rule|${tenant}|${id}`, options, 'Alert rule', id);

  private get<T>(key: string): T {
    return this.entries.get(key) as T;
  }

  private list(prefix: string): Stored[] {
    return [...this.entries.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, v]) => v);
  }

  private async requireTenant(tenant: string): Promise<void> {
    if (!this.entries.has(`tenant|${tenant}`)) throw new NotFoundError('Tenant', tenant);
  }

  private write(key: string, value: object, options: WriteOptions, what: string, id: string): Stored {
    const current = this.entries.get(key);
    if (options.expectedRevision !== undefined && options.expectedRevision !== (current?.revision ?? 0)) {
      throw conflict(what, id);
    }
    const stored = { value: value as Record<string, unknown>, revision: ++this.revision };
    this.entries.set(key, stored);
    return stored;
  }

  private async remove(key: string, options: WriteOptions, what: string, id: string): Promise<void> {
    const current = this.entries.get(key);
    if (!current) throw new NotFoundError(what, id);
    if (options.expectedRevision !== undefined && options.expectedRevision !== current.revision)
      throw conflict(what, id);
    this.entries.delete(key);
    this.revision++;
  }
}

/** `ApiKeyStore`'s management operations in memory. */
export class InMemoryApiKeys implements ApiKeyPort {
  private readonly keys = new Map<string, ApiKeyRecord>();

  async create(tenant: string, role: ApiKeyRole, name: string) {
    const key = generateApiKey(role);
    const id = apiKeyId(key);
    const record: ApiKeyRecord = { tenant, role, name, createdAt: new Date().toISOString() };
    this.keys.set(id, record);
    return { key, id, record };
  }

  list(tenant: string) {
    return [...this.keys.entries()]
      .filter(([, r]) => r.tenant === tenant)
      .map(([id, record]) => ({ id, record }));
  }

  async revokeById(id: string): Promise<void> {
    const record = this.keys.get(id);
    if (!record) throw new NotFoundError('API key', id.slice(0, 12));
    this.keys.set(id, { ...record, revoked: true });
  }
}

function conflict(what: string, id: string): ConflictError {
  return new ConflictError('REVISION_CONFLICT', `${what} '${id}' was changed (or created) by someone else`);
}
