/**
 * The catalog's entities: zod schemas (the one definition of what is valid) and their TypeScript types.
 * Stored as JSON in the catalog KV bucket, API keys in their own bucket (see keys.ts for the layout).
 */
import { type FieldIssue, ValidationFailedError } from '@tally/errors';
import {
  fieldIssuesFromZod,
  isValidTimeZone,
  METER_KEY_PATTERN,
  meterDefinitionShape,
  refineMeterDefinition,
} from '@tally/metering';
import { TENANT_ID_PATTERN } from '@tally/nats';
import {
  CURRENCY_MINOR_UNITS,
  validateCoupon,
  validatePlan,
  validateTaxRates,
  type Coupon,
} from '@tally/pricing';
import { z, type ZodTypeAny } from 'zod';

/** Ids Tally assigns or operators choose for plans, subscriptions and alert rules (URL- and KV-safe). */
export const ENTITY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** Customer external ids: whatever the customer's system uses, as events carry it (docs/events.md). */
export const CUSTOMER_ID_MAX_LENGTH = 256;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const custom = (code: string, message: string) => ({ message, params: { code } });

const tenantId = z.string().regex(TENANT_ID_PATTERN, 'must match ^[a-z0-9][a-z0-9_-]{0,62}$');
const entityId = z.string().regex(ENTITY_ID_PATTERN, 'must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$');
const name = z.string().min(1).max(256);
const timeZone = z
  .string()
  .refine(
    isValidTimeZone,
    custom('INVALID_TIMEZONE', "must be an IANA time-zone name such as 'America/New_York'"),
  );

const knownCurrencies = new Set<string>([
  ...(typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('currency') : []),
  ...Object.keys(CURRENCY_MINOR_UNITS),
]);
const currency = z
  .string()
  .refine(
    (c) => /^[A-Z]{3}$/.test(c) && knownCurrencies.has(c),
    custom('UNKNOWN_CURRENCY', 'must be an ISO 4217 code such as USD'),
  );

/** Non-negative decimal text that fits Decimal(38, 12), like a quantity. */
const decimalText = z
  .string()
  .regex(/^\d{1,26}(\.\d{1,12})?$/, 'must be a non-negative decimal string such as "1000" or "12.5"');

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    custom('INVALID_DATE', 'is not a calendar date'),
  );

const timestamp = z.string().datetime({ offset: false, message: 'must be an ISO 8601 UTC timestamp' });

const customerId = z
  .string()
  .min(1)
  .max(CUSTOMER_ID_MAX_LENGTH)
  .refine(
    (s) => !LONE_SURROGATE.test(s) && !s.includes('\u0000'),
    custom('INVALID_STRING', 'contains a NUL or a lone UTF-16 surrogate'),
  );

// ------------------------------------------------------------------------------ Finance terms (docs/finance.md)

const period = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a period YYYY-MM');
const minorAmount = z.string().regex(/^\d{1,30}$/, 'must be an integer string of minor units such as "5000"');

/** A tax rate of the tenant's table (`@tally/pricing`'s `TaxRate`). */
export const taxRateSchema = z
  .object({
    id: entityId,
    name,
    jurisdiction: z.string().regex(/^[A-Z0-9]+(-[A-Z0-9]+)*$/, 'must be a code such as "FR" or "US-NY-NYC"'),
    percent: z.string(),
    inclusive: z.boolean(),
  })
  .strict()
  .superRefine((rate, ctx) => {
    for (const issue of validateTaxRates([rate]))
      ctx.addIssue({
        code: 'custom',
        path: pathOf(issue.field.replace(/^taxRates\[0\]\.?/, '')),
        message: issue.message,
        params: { code: issue.code },
      });
  });

/** A coupon the tenant offers (`@tally/pricing`'s `Coupon`). */
export const couponSchema = z
  .object({
    id: entityId,
    name,
    kind: z.enum(['percentage', 'amount']),
    percent: z.string().optional(),
    amount: z.string().optional(),
    currency: z.string().optional(),
    duration: z.enum(['once', 'repeating', 'forever']),
    periods: z.number().int().min(1).max(1200).optional(),
    appliesTo: z
      .object({
        plans: z.array(entityId).optional(),
        charges: z.array(z.string().min(1).max(128)).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((coupon, ctx) => {
    for (const issue of validateCoupon(coupon as Coupon))
      ctx.addIssue({
        code: 'custom',
        path: pathOf(issue.field.replace(/^coupon\.?/, '')),
        message: issue.message,
        params: { code: issue.code },
      });
  });
export type CatalogCoupon = z.infer<typeof couponSchema>;

const creditGrantEntry = z
  .object({
    type: z.literal('grant'),
    id: entityId,
    name: name.optional(),
    currency,
    amountMinor: minorAmount,
    priority: z.number().int().min(0).max(1000).optional(),
    effective: isoDate,
    expires: isoDate.optional(),
    recurrence: z
      .object({ everyMonths: z.number().int().min(1).max(12) })
      .strict()
      .optional(),
    rollover: z.object({ maxMinor: minorAmount.optional() }).strict().optional(),
    source: z.enum(['grant', 'purchase', 'promotion', 'top_up', 'proration', 'credit_note']).optional(),
  })
  .strict();
const creditVoidEntry = z
  .object({
    type: z.literal('void'),
    id: entityId,
    grantId: entityId,
    date: isoDate,
    reason: z.string().max(1024).optional(),
  })
  .strict();

/** Credit in units of a meter (docs/finance.md#unit-grants): drawn by the meter's usage before it is priced. */
const unitGrantEntry = z
  .object({
    type: z.literal('unit_grant'),
    id: entityId,
    name: name.optional(),
    meter: z.string().regex(METER_KEY_PATTERN, 'must be a meter key'),
    units: decimalText,
    priority: z.number().int().min(0).max(1000).optional(),
    effective: isoDate,
    expires: isoDate.optional(),
  })
  .strict();
export type UnitGrantLedgerEntry = z.infer<typeof unitGrantEntry>;

/** An entry of a customer's credit ledger as clients write it: a grant (or top-up), a unit grant, or a void. Draws are written by invoices. */
export const creditEntrySchema = z.discriminatedUnion('type', [
  creditGrantEntry,
  unitGrantEntry,
  creditVoidEntry,
]);

/**
 * What a grant's timer workflow records (docs/finance.md#expiry-and-recurrence-timers): an expiry or an
 * occurrence of a recurring grant came. Written by the billing worker only; never moves the balance.
 */
const timerEntry = <T extends 'expiry' | 'recurrence'>(type: T) =>
  z
    .object({
      type: z.literal(type),
      id: entityId,
      grantId: entityId,
      bucketId: z.string().min(1).max(160),
      date: isoDate,
    })
    .strict();
export const creditTimerEntrySchema = z.discriminatedUnion('type', [
  timerEntry('expiry'),
  timerEntry('recurrence'),
]);

/** An entry of the stored ledger: what clients write and what the timers record. */
export const storedCreditEntrySchema = z.discriminatedUnion('type', [
  creditGrantEntry,
  unitGrantEntry,
  creditVoidEntry,
  timerEntry('expiry'),
  timerEntry('recurrence'),
]);
export type CreditLedgerEntry = z.infer<typeof storedCreditEntrySchema>;
export type CreditTimerLedgerEntry = z.infer<typeof creditTimerEntrySchema>;

/** A customer's billing terms: tax profile, coupons redeemed, credit ledger (append-only). */
export const customerBillingSchema = z
  .object({
    tax: z
      .object({
        jurisdiction: z
          .string()
          .regex(/^[A-Z0-9]+(-[A-Z0-9]+)*$/, 'must be a code such as "FR" or "US-NY-NYC"')
          .optional(),
        exempt: z.boolean().optional(),
        exemptRates: z.array(entityId).optional(),
      })
      .strict()
      .optional(),
    /** Coupons redeemed: `firstPeriod` is the first period the coupon applies to. */
    coupons: z
      .array(z.object({ coupon: entityId, firstPeriod: period }).strict())
      .max(100)
      .optional(),
    /** Only ever appended to: the store refuses a change that edits or removes an entry. */
    credits: z.array(storedCreditEntrySchema).max(10_000).optional(),
    /** Spend commitments over a term (docs/finance.md#commitments). */
    commitments: z
      .array(
        z
          .object({
            id: entityId,
            kind: z.enum(['prepaid', 'postpaid']),
            currency,
            amountMinor: minorAmount,
            start: isoDate,
            end: isoDate,
          })
          .strict()
          .refine((c) => c.end > c.start, { message: 'end must be after start', path: ['end'] }),
      )
      .max(100)
      .optional(),
  })
  .strict();
export type CustomerBilling = z.infer<typeof customerBillingSchema>;

// ---------------------------------------------------------------------------------------------- Tenant

export const tenantSchema = z
  .object({
    id: tenantId,
    name,
    /** Default zone of the tenant's customers: billing periods and daily usage are local to it. */
    timezone: timeZone,
    currency,
    /** Events older than this are dead-lettered (docs/events.md). */
    latenessLimitDays: z.number().int().min(0).max(3650).default(35),
    /** Events per second the gateway accepts for the tenant. */
    rateLimitPerSecond: z.number().int().min(1).max(10_000_000).default(10_000),
    /** When true, the writer dead-letters events whose customer is not in the catalog. */
    requireKnownCustomers: z.boolean().default(false),
    /** Tax rates by jurisdiction (docs/finance.md#taxes). */
    taxRates: z.array(taxRateSchema).max(1000).optional(),
    /** Coupons customers may redeem (docs/finance.md#coupons). */
    coupons: z.array(couponSchema).max(1000).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const [field, list] of [
      ['taxRates', t.taxRates ?? []],
      ['coupons', t.coupons ?? []],
    ] as const) {
      const seen = new Set<string>();
      list.forEach((x, i) => {
        if (seen.has(x.id))
          ctx.addIssue({
            code: 'custom',
            path: [field, i, 'id'],
            ...custom('DUPLICATE_ID', `'${x.id}' is used twice`),
          });
        seen.add(x.id);
      });
    }
  });
export type Tenant = z.infer<typeof tenantSchema>;
export type TenantInput = z.input<typeof tenantSchema>;

// -------------------------------------------------------------------------------------------- Customer

export const customerSchema = z
  .object({
    tenant: tenantId,
    /** The external id events carry in `customer`. */
    id: customerId,
    name: name.optional(),
    /** Zone of the customer's billing periods; the tenant's when absent (see `customerTimeZone`). */
    timezone: timeZone.optional(),
    metadata: z
      .record(z.string().min(1).max(128), z.string().max(1024))
      .refine((m) => Object.keys(m).length <= 50, custom('TOO_LONG', 'at most 50 metadata keys'))
      .default({}),
    /** Taxes, coupons and prepaid credit (docs/finance.md). */
    billing: customerBillingSchema.optional(),
    /** Set by the store when the customer is first written. */
    createdAt: timestamp,
  })
  .strict();
export type Customer = z.infer<typeof customerSchema>;
/** What callers pass to `putCustomer`: `createdAt` is filled (or kept) by the store. */
export type CustomerInput = Omit<z.input<typeof customerSchema>, 'createdAt'> & { createdAt?: string };

/** The zone a customer's periods are computed in: its own, else its tenant's. */
export function customerTimeZone(
  customer: Pick<Customer, 'timezone'>,
  tenant: Pick<Tenant, 'timezone'>,
): string {
  return customer.timezone ?? tenant.timezone;
}

// ----------------------------------------------------------------------------------------------- Meter

const meterShape = { tenant: tenantId, ...meterDefinitionShape };

/**
 * A meter as stored: its definition (see `@tally/metering`) plus the tenant and a version that the
 * store increments on every change. Old versions stay readable (`getMeterVersion`) so that an invoice
 * can be re-derived with the definition it was computed with.
 */
export const meterSchema = z
  .object({ ...meterShape, version: z.number().int().min(1) })
  .strict()
  .superRefine(refineMeterDefinition);
export type Meter = z.infer<typeof meterSchema>;

/** What callers pass to `putMeter`; any `version` given is ignored (the store assigns it). */
export const meterInputSchema = z
  .object({ ...meterShape, version: z.number().optional() })
  .strict()
  .superRefine(refineMeterDefinition);
export type MeterInput = z.input<typeof meterInputSchema>;

// ------------------------------------------------------------------------------------------------ Plan

export const planSchema = z
  .object({
    tenant: tenantId,
    id: entityId,
    name,
    currency,
    /** Priced by `@tally/pricing`; checked with its `validatePlan` (paths `charges[i]...`). */
    charges: z.array(z.record(z.unknown())),
    minimumCommitment: z.string().optional(),
    maximum: z.string().optional(),
    /** How flat fees are prorated when the plan changes inside a period (docs/finance.md). */
    proration: z.enum(['day', 'second']).optional(),
    /** Whether this plan's tiers count from zero or carry over when it takes over mid-period. */
    segmentTiers: z.enum(['reset', 'carry_over']).optional(),
    /**
     * Progressive (threshold) billing: interim invoices when the period's accrued amount reaches a
     * threshold (docs/billing.md). Checked by `validatePlan` (codes and paths `progressiveBilling...`).
     */
    progressiveBilling: z.unknown().optional(),
  })
  .strict()
  .superRefine((plan, ctx) => {
    const pricingPlan = {
      id: plan.id,
      name: plan.name,
      currency: plan.currency,
      charges: plan.charges,
      minimumCommitment: plan.minimumCommitment,
      maximum: plan.maximum,
      proration: plan.proration,
      segmentTiers: plan.segmentTiers,
      progressiveBilling: plan.progressiveBilling,
    };
    for (const issue of validatePlan(withoutUndefined(pricingPlan))) {
      ctx.addIssue({
        code: 'custom',
        path: pathOf(issue.field),
        message: issue.message,
        params: { code: issue.code },
      });
    }
  });
export type Plan = z.infer<typeof planSchema>;
export type PlanInput = z.input<typeof planSchema>;

// -------------------------------------------------------------------------------------- Subscription

export const SUBSCRIPTION_ACTIONS = ['created', 'plan_changed', 'canceled', 'paused', 'resumed'] as const;
export type SubscriptionAction = (typeof SUBSCRIPTION_ACTIONS)[number];

/** One change of a subscription: what, from which local date, recorded when, version n of its terms. */
export const subscriptionChangeSchema = z
  .object({
    version: z.number().int().min(1),
    action: z.enum(SUBSCRIPTION_ACTIONS),
    /** Local date the change takes effect (may be in the past: a backdated change re-bills, docs/finance.md). */
    effective: isoDate,
    recordedAt: timestamp,
    plan: entityId.optional(),
    /** The subscription this one continues (a plan change or a resume starts a new one). */
    continues: entityId.optional(),
    /** The subscription that continues this one. */
    continuedBy: entityId.optional(),
  })
  .strict();
export type SubscriptionChange = z.infer<typeof subscriptionChangeSchema>;

export const subscriptionSchema = z
  .object({
    tenant: tenantId,
    id: entityId,
    /** Customer external id. */
    customer: customerId,
    /** Plan id. */
    plan: entityId,
    /** First day billed, in the customer's zone. */
    start: isoDate,
    /** First day no longer billed (exclusive); open-ended when absent. */
    end: isoDate.optional(),
    /** Day of month periods start on; the start date's day when absent. Short months clamp to their last day. */
    billingAnchorDay: z.number().int().min(1).max(31).optional(),
    /** First day no longer in trial: flat fees are not charged before it, usage is (docs/finance.md). */
    trialEnd: isoDate.optional(),
    /**
     * The subscription's changes, oldest first, each numbered and effective-dated: written by the
     * lifecycle endpoints (`POST /v1/subscriptions/:id/change-plan`, `cancel`, `pause`, `resume`).
     */
    history: z.array(subscriptionChangeSchema).max(1000).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.trialEnd !== undefined && s.trialEnd <= s.start) {
      ctx.addIssue({
        code: 'custom',
        path: ['trialEnd'],
        ...custom('TRIAL_END_NOT_AFTER_START', 'trialEnd must be after start'),
      });
    }
    if (s.end !== undefined && s.end <= s.start) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        ...custom('END_NOT_AFTER_START', 'end must be after start'),
      });
    }
  });
export type Subscription = z.infer<typeof subscriptionSchema>;
export type SubscriptionInput = z.input<typeof subscriptionSchema>;

// ---------------------------------------------------------------------------------------- Alert rule

export const alertThresholdSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('absolute'), value: decimalText }).strict(),
  z
    .object({
      kind: z.literal('percent_of_allowance'),
      /** E.g. 80 = alert at 80 % of the allowance. */
      percent: z.number().gt(0).max(10_000),
      allowance: decimalText,
    })
    .strict(),
]);
export type AlertThreshold = z.infer<typeof alertThresholdSchema>;

export const alertRuleSchema = z
  .object({
    tenant: tenantId,
    id: entityId,
    meter: z.string().regex(METER_KEY_PATTERN),
    profile: z.string().regex(METER_KEY_PATTERN).optional(),
    /** One customer; every customer of the tenant when absent. */
    customer: customerId.optional(),
    threshold: alertThresholdSchema,
    webhookUrl: z
      .string()
      .url()
      .max(2048)
      .refine((u) => /^https?:\/\//i.test(u), custom('INVALID_URL', 'must be an http(s) URL'))
      .optional(),
    /**
     * Signs webhook bodies (Standard Webhooks: `whsec_` + base64 of the key). Stored as given because the
     * sender needs it, and write-only: the API never returns it (docs/security.md#webhooks).
     */
    webhookSecret: z.string().min(16).max(256).optional(),
    /** Shown instead of the secret on reads; ignored on writes (a write without a secret keeps the stored one). */
    webhookSecretSet: z.boolean().optional(),
  })
  .strict();
export type AlertRule = z.infer<typeof alertRuleSchema>;
export type AlertRuleInput = z.input<typeof alertRuleSchema>;

// ------------------------------------------------------------------------------------------- Dataset

/** `^[a-zA-Z_][a-zA-Z0-9_]{0,63}$`: a dataset name is also the table name of the SQL API. */
export const DATASET_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;
export const DATASET_KINDS = ['analytics', 'billing'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/**
 * A Cloudflare Analytics Engine dataset of a tenant (`@tally/analytics-engine`). `analytics` datasets
 * are sampled equitably when one index is louder than its budget (`sampling`, else the gateway's
 * default); `billing` datasets are never sampled: every data point is stored. A dataset nobody
 * declared is created as `analytics` with the defaults when its first data point arrives.
 */
export const datasetSchema = z
  .object({
    tenant: tenantId,
    name: z.string().regex(DATASET_NAME_PATTERN, 'must match ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$'),
    kind: z.enum(DATASET_KINDS),
    sampling: z
      .object({
        /** Rows stored per index and window before sampling starts. */
        budgetPerIndexPerWindow: z.number().int().min(1).max(10_000_000),
        windowMs: z.number().int().min(10).max(86_400_000),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.kind === 'billing' && d.sampling !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['sampling'],
        ...custom(
          'SAMPLING_NOT_ALLOWED',
          'a billing dataset is never sampled: remove sampling or use kind analytics',
        ),
      });
    }
  });
export type Dataset = z.infer<typeof datasetSchema>;
export type DatasetInput = z.input<typeof datasetSchema>;

// -------------------------------------------------------------------------------------------- API key

export const API_KEY_ROLES = ['ingest', 'query', 'admin'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export const apiKeyRecordSchema = z
  .object({
    tenant: tenantId,
    role: z.enum(API_KEY_ROLES),
    name: z.string().min(1).max(128),
    createdAt: timestamp,
    revoked: z.boolean().optional(),
  })
  .strict();
export type ApiKeyRecord = z.infer<typeof apiKeyRecordSchema>;

// ------------------------------------------------------------------------------------------- helpers

/** Parses with `schema`, or throws `ValidationFailedError` listing every issue with its field path. */
export function parseEntity<S extends ZodTypeAny>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationFailedError(fieldIssuesFromZod(result.error), `Invalid ${what}`);
  return result.data;
}

export function validationError(issues: FieldIssue[], what: string): ValidationFailedError {
  return new ValidationFailedError(issues, `Invalid ${what}`);
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** `charges[1].tiers[0].upTo` → `['charges', 1, 'tiers', 0, 'upTo']` (pricing's paths as zod paths). */
function pathOf(field: string): Array<string | number> {
  if (field === '') return [];
  const out: Array<string | number> = [];
  for (const m of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}
