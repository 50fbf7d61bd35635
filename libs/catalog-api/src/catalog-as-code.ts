/**
 * Catalog as code: a YAML (or JSON) document declares a tenant's customers, meters, plans, subscriptions
 * and alert rules; `planCatalogApply` compares it with what is stored and `applyCatalogPlan` writes only
 * the differences, so applying the same document twice changes nothing the second time.
 */
import {
  alertRuleSchema,
  meterInputSchema,
  planSchema,
  subscriptionSchema,
  tenantSchema,
  type Versioned,
} from '@tally/catalog';
import { BadRequestError, type FieldIssue, ValidationFailedError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import { TENANT_ID_PATTERN } from '@tally/nats';
import { parse as parseYaml, stringify as stringifyYaml, YAMLParseError } from 'yaml';
import { z, type ZodTypeAny } from 'zod';
import { keepStoredWebhookSecret, presentAlertRule } from './catalog.service';
import type { CatalogPort } from './ports';
import { customerInputSchema } from './schemas';

export const CATALOG_SECTIONS = ['customers', 'meters', 'plans', 'subscriptions', 'alertRules'] as const;
export type CatalogSection = (typeof CATALOG_SECTIONS)[number];

type Entity = Record<string, unknown>;

/** A tenant's declared catalog. Entities leave out `tenant` (it is the document's). */
export interface CatalogDocument {
  tenant: string;
  /** The tenant's own settings (`name`, `timezone`, `currency`, ...); applied when present. */
  settings?: Entity;
  customers: Entity[];
  meters: Entity[];
  plans: Entity[];
  subscriptions: Entity[];
  alertRules: Entity[];
}

export type EntityKind = 'tenant' | 'customer' | 'meter' | 'plan' | 'subscription' | 'alert rule';
export type ChangeAction = 'create' | 'update' | 'unchanged';

export interface PlannedChange {
  kind: EntityKind;
  id: string;
  action: ChangeAction;
  /** Top-level fields that differ (updates only). */
  fields: string[];
  /** What is written (tenant filled in); server-managed fields (`createdAt`, `version`) left to the store. */
  input: Entity;
  /** 0 for a create, else the revision read: a concurrent change in between makes the apply fail, not overwrite it. */
  expectedRevision: number;
}

export interface CatalogApplyPlan {
  tenant: string;
  /** In the order they are applied: tenant, customers, meters, plans, subscriptions, alert rules. */
  changes: PlannedChange[];
}

export interface AppliedChange extends PlannedChange {
  /** The revision after the write (the stored one when unchanged). */
  revision?: number;
  /** Meters: the version now current. */
  version?: number;
}

const documentSchema = z
  .object({
    tenant: z.string().regex(TENANT_ID_PATTERN, 'must match ^[a-z0-9][a-z0-9_-]{0,62}$').optional(),
    settings: z.record(z.unknown()).optional(),
    customers: z.array(z.record(z.unknown())).default([]),
    meters: z.array(z.record(z.unknown())).default([]),
    plans: z.array(z.record(z.unknown())).default([]),
    subscriptions: z.array(z.record(z.unknown())).default([]),
    alertRules: z.array(z.record(z.unknown())).default([]),
  })
  .strict();

/**
 * Parses a catalog document (YAML; JSON is YAML too). The tenant is `tenantOverride` (the CLI's
 * `--tenant`) or the document's `tenant`; when both are given they must agree.
 */
export function parseCatalogDocument(text: string, tenantOverride?: string): CatalogDocument {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    if (error instanceof YAMLParseError)
      throw new BadRequestError('INVALID_YAML', error.message, { cause: error });
    throw error;
  }
  const parsed = documentSchema.safeParse(raw ?? {});
  if (!parsed.success)
    throw new ValidationFailedError(fieldIssuesFromZod(parsed.error), 'Invalid catalog document');
  const doc = parsed.data;
  const tenant = tenantOverride ?? doc.tenant;
  if (tenant === undefined) {
    throw new ValidationFailedError(
      [{ field: 'tenant', code: 'REQUIRED', message: 'name the tenant in the document or with --tenant' }],
      'Invalid catalog document',
    );
  }
  if (doc.tenant !== undefined && doc.tenant !== tenant) {
    throw new ValidationFailedError(
      [
        {
          field: 'tenant',
          code: 'TENANT_MISMATCH',
          message: `the document is for '${doc.tenant}', not '${tenant}'`,
        },
      ],
      'Invalid catalog document',
    );
  }
  if (!TENANT_ID_PATTERN.test(tenant)) {
    throw new ValidationFailedError(
      [{ field: 'tenant', code: 'INVALID_FORMAT', message: 'must match ^[a-z0-9][a-z0-9_-]{0,62}$' }],
      'Invalid catalog document',
    );
  }
  return { ...doc, tenant };
}

interface SectionSpec {
  section: CatalogSection;
  kind: EntityKind;
  idField: 'id' | 'key';
  schema: ZodTypeAny;
  /** Fields the store manages: never exported, and not compared unless `keepIfDeclared` and declared. */
  managed: string[];
  /** Whether a declared value of a managed field is written (customers' `createdAt`) or ignored (meters' `version`). */
  keepIfDeclared: boolean;
  /** How an exported entity reads (alert rules: the webhook secret is write-only, as in the API). */
  present?(stored: Entity): Entity;
  /** A declared entity as it is written, given the stored one (alert rules keep a stored secret not declared). */
  prepare?(declared: Entity, stored: Entity | undefined): Entity;
  list(store: CatalogPort, tenant: string): Promise<Array<Versioned<object>>>;
  put(store: CatalogPort, input: Entity, expectedRevision: number): Promise<Versioned<object>>;
}

// Dependency order: what an entity refers to is applied before it.
const SECTIONS: SectionSpec[] = [
  {
    section: 'customers',
    kind: 'customer',
    idField: 'id',
    schema: customerInputSchema,
    managed: ['createdAt'],
    keepIfDeclared: true,
    list: (s, t) => s.listCustomers(t),
    put: (s, input, expectedRevision) => s.putCustomer(input as never, { expectedRevision }),
  },
  {
    section: 'meters',
    kind: 'meter',
    idField: 'key',
    schema: meterInputSchema,
    managed: ['version'],
    keepIfDeclared: false,
    list: (s, t) => s.listMeters(t),
    put: (s, input, expectedRevision) => s.putMeter(input as never, { expectedRevision }),
  },
  {
    section: 'plans',
    kind: 'plan',
    idField: 'id',
    schema: planSchema,
    managed: [],
    keepIfDeclared: false,
    list: (s, t) => s.listPlans(t),
    put: (s, input, expectedRevision) => s.putPlan(input as never, { expectedRevision }),
  },
  {
    section: 'subscriptions',
    kind: 'subscription',
    idField: 'id',
    schema: subscriptionSchema,
    managed: [],
    keepIfDeclared: false,
    list: (s, t) => s.listSubscriptions(t),
    put: (s, input, expectedRevision) => s.putSubscription(input as never, { expectedRevision }),
  },
  {
    section: 'alertRules',
    kind: 'alert rule',
    idField: 'id',
    schema: alertRuleSchema,
    managed: [],
    keepIfDeclared: false,
    present: (rule) => presentAlertRule(rule as never) as Entity,
    prepare: (declared, stored) => keepStoredWebhookSecret(declared, stored),
    list: (s, t) => s.listAlertRules(t),
    put: (s, input, expectedRevision) => s.putAlertRule(input as never, { expectedRevision }),
  },
];

/**
 * Compares `doc` with the stored catalog. Every declaration is validated first (all issues at once,
 * with document paths such as `plans[0].charges[1].unitPrice`), references included (a plan's meters,
 * a subscription's customer and plan, an alert rule's meter and customer, declared or stored), so a
 * mistake anywhere is found before anything is written.
 */
export async function planCatalogApply(store: CatalogPort, doc: CatalogDocument): Promise<CatalogApplyPlan> {
  const tenant = doc.tenant;
  const issues: FieldIssue[] = [];
  const changes: PlannedChange[] = [];

  const storedTenant = await store.getTenant(tenant);
  if (doc.settings !== undefined) {
    const input = { ...doc.settings, id: tenant };
    if (doc.settings.id !== undefined && doc.settings.id !== tenant) {
      issues.push({
        field: 'settings.id',
        code: 'TENANT_MISMATCH',
        message: `must be '${tenant}' or left out`,
      });
    }
    const parsed = tenantSchema.safeParse(input);
    if (!parsed.success) issues.push(...fieldIssuesFromZod(parsed.error, 'settings'));
    else changes.push(diff('tenant', tenant, input, parsed.data, storedTenant, []));
  } else if (!storedTenant) {
    issues.push({
      field: 'settings',
      code: 'UNKNOWN_TENANT',
      message: `tenant '${tenant}' does not exist: create it first (tally tenant create) or declare its settings`,
    });
  }

  const storedBySection = new Map<CatalogSection, Map<string, Versioned<Entity>>>();
  const declaredBySection = new Map<CatalogSection, Map<string, Entity>>();
  for (const spec of SECTIONS) {
    const stored = new Map<string, Versioned<Entity>>();
    for (const v of (await spec.list(store, tenant)) as Array<Versioned<Entity>>)
      stored.set(String(v.value[spec.idField]), v);
    storedBySection.set(spec.section, stored);
    const declared = new Map<string, Entity>();
    declaredBySection.set(spec.section, declared);

    for (const [i, entity] of doc[spec.section].entries()) {
      const path = `${spec.section}[${i}]`;
      const id = entity[spec.idField];
      if (typeof id === 'string') {
        if (declared.has(id)) {
          issues.push({
            field: `${path}.${spec.idField}`,
            code: 'DUPLICATE_ID',
            message: `'${id}' is declared twice`,
          });
          continue;
        }
        // Known before it is validated, so that its own mistakes are not reported again by its referrers.
        declared.set(id, entity);
      }
      if (entity.tenant !== undefined && entity.tenant !== tenant) {
        issues.push({
          field: `${path}.tenant`,
          code: 'TENANT_MISMATCH',
          message: `must be '${tenant}' or left out`,
        });
        continue;
      }
      const declaredInput: Entity = { ...entity, tenant };
      const input = spec.prepare ? spec.prepare(declaredInput, stored.get(String(id))?.value) : declaredInput;
      const parsed = spec.schema.safeParse(input);
      if (!parsed.success) {
        issues.push(...fieldIssuesFromZod(parsed.error, path));
        continue;
      }
      declared.set(String(id), parsed.data as Entity);
      const ignored = spec.managed.filter((f) => !spec.keepIfDeclared || entity[f] === undefined);
      changes.push(
        diff(spec.kind, String(id), input, parsed.data as Entity, stored.get(String(id)), ignored),
      );
    }
  }

  issues.push(...referenceIssues(doc, declaredBySection, storedBySection));
  if (issues.length) throw new ValidationFailedError(issues, 'Invalid catalog document');
  return { tenant, changes };
}

/** Writes the planned creates and updates, in order; stops at the first failure (earlier writes stay). */
export async function applyCatalogPlan(store: CatalogPort, plan: CatalogApplyPlan): Promise<AppliedChange[]> {
  const applied: AppliedChange[] = [];
  for (const change of plan.changes) {
    if (change.action === 'unchanged') {
      applied.push(change);
      continue;
    }
    if (change.kind === 'tenant') {
      const stored = await store.putTenant(change.input as never, {
        expectedRevision: change.expectedRevision,
      });
      applied.push({ ...change, revision: stored.revision });
      continue;
    }
    const spec = SECTIONS.find((s) => s.kind === change.kind);
    if (!spec) throw new Error(`no section for ${change.kind}`);
    const stored = await spec.put(store, change.input, change.expectedRevision);
    const version = (stored.value as { version?: unknown }).version;
    applied.push({
      ...change,
      revision: stored.revision,
      ...(typeof version === 'number' ? { version } : {}),
    });
  }
  return applied;
}

/** The stored catalog of `tenant` as a document that `planCatalogApply` finds unchanged. */
export async function exportCatalog(store: CatalogPort, tenant: string): Promise<CatalogDocument> {
  const stored = await store.getTenant(tenant);
  const doc: CatalogDocument = {
    tenant,
    ...(stored ? { settings: omit(stored.value, ['id']) } : {}),
    customers: [],
    meters: [],
    plans: [],
    subscriptions: [],
    alertRules: [],
  };
  for (const spec of SECTIONS) {
    const entities = (await spec.list(store, tenant)) as Array<Versioned<Entity>>;
    doc[spec.section] = entities
      .map((v) => omit(spec.present ? spec.present(v.value) : v.value, ['tenant', ...spec.managed]))
      .sort((a, b) => compareText(String(a[spec.idField]), String(b[spec.idField])));
  }
  return doc;
}

/** A document as YAML, empty sections left out. */
export function renderCatalogYaml(doc: CatalogDocument): string {
  const out: Entity = { tenant: doc.tenant };
  if (doc.settings) out.settings = doc.settings;
  for (const section of CATALOG_SECTIONS) if (doc[section].length) out[section] = doc[section];
  return stringifyYaml(out, { lineWidth: 0 });
}

function diff(
  kind: EntityKind,
  id: string,
  input: Entity,
  desired: Entity,
  stored: Versioned<Entity> | Versioned<object> | undefined,
  ignore: string[],
): PlannedChange {
  if (!stored) return { kind, id, action: 'create', fields: [], input, expectedRevision: 0 };
  const current = stored.value as Entity;
  const keys = [...new Set([...Object.keys(desired), ...Object.keys(current)])].filter(
    (k) => !ignore.includes(k),
  );
  const fields = keys.filter((k) => canonical(desired[k]) !== canonical(current[k])).sort();
  return {
    kind,
    id,
    action: fields.length ? 'update' : 'unchanged',
    fields,
    input,
    expectedRevision: stored.revision,
  };
}

function referenceIssues(
  doc: CatalogDocument,
  declared: Map<CatalogSection, Map<string, Entity>>,
  stored: Map<CatalogSection, Map<string, Versioned<Entity>>>,
): FieldIssue[] {
  const lookup = (section: CatalogSection, id: string): Entity | undefined =>
    declared.get(section)?.get(id) ?? stored.get(section)?.get(id)?.value;
  const hasProfile = (meter: Entity, profile: string) =>
    Array.isArray(meter.profiles) && meter.profiles.some((p) => (p as Entity).key === profile);
  const issues: FieldIssue[] = [];
  const meterIssue = (field: string, key: string, profile?: string, profileField = field) => {
    const meter = lookup('meters', key);
    if (!meter)
      issues.push({ field, code: 'UNKNOWN_METER', message: `meter '${key}' is neither declared nor stored` });
    else if (profile !== undefined && !hasProfile(meter, profile)) {
      issues.push({
        field: profileField,
        code: 'UNKNOWN_PROFILE',
        message: `meter '${key}' has no profile '${profile}'`,
      });
    }
  };

  doc.plans.forEach((plan, i) => {
    if (!Array.isArray(plan.charges)) return;
    plan.charges.forEach((charge, j) => {
      const meter = (charge as Entity | null)?.meter;
      if (typeof meter !== 'string') return;
      const [key, profile] = meter.split(':', 2);
      meterIssue(`plans[${i}].charges[${j}].meter`, key, profile);
    });
  });
  doc.subscriptions.forEach((sub, i) => {
    if (typeof sub.customer === 'string' && !lookup('customers', sub.customer)) {
      issues.push({
        field: `subscriptions[${i}].customer`,
        code: 'UNKNOWN_CUSTOMER',
        message: `customer '${sub.customer}' is neither declared nor stored`,
      });
    }
    if (typeof sub.plan === 'string' && !lookup('plans', sub.plan)) {
      issues.push({
        field: `subscriptions[${i}].plan`,
        code: 'UNKNOWN_PLAN',
        message: `plan '${sub.plan}' is neither declared nor stored`,
      });
    }
  });
  doc.alertRules.forEach((rule, i) => {
    if (typeof rule.meter === 'string') {
      const profile = typeof rule.profile === 'string' ? rule.profile : undefined;
      meterIssue(`alertRules[${i}].meter`, rule.meter, profile, `alertRules[${i}].profile`);
    }
    if (typeof rule.customer === 'string' && !lookup('customers', rule.customer)) {
      issues.push({
        field: `alertRules[${i}].customer`,
        code: 'UNKNOWN_CUSTOMER',
        message: `customer '${rule.customer}' is neither declared nor stored`,
      });
    }
  });
  return issues;
}

/** JSON with object keys sorted: equal values compare equal whatever order the YAML listed fields in. */
function canonical(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v as Entity).sort(([a], [b]) => compareText(a, b)))
        : v,
    ) ?? 'undefined'
  );
}

function omit(value: object, fields: string[]): Entity {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !fields.includes(k)));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
