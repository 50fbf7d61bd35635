/**
 * Subscription lifecycle (docs/finance.md#subscription-lifecycle): create (with a trial), change plan,
 * cancel, pause and resume, now, at the end of the current period, or on a given date. Each change is
 * a new version of the subscription's terms, effective-dated and recorded in its `history`.
 *
 * A subscription's plan never changes in place once it has started: a plan change ends it on the
 * effective date and starts a new subscription there (same anchor day, so both fall in one billing
 * period and the invoice prorates each side); a pause ends it, a resume starts a continuation. So the
 * invoice issuer, the usage API and the rebiller keep reading plain dated subscriptions, and a change
 * dated inside a period already invoiced re-bills through the adjustment path like any backdated write.
 *
 * `planChange`, `cancellation`, `pause` and `resumption` are pure (the service below reads and writes);
 * they throw `ValidationFailedError` with a stable code and the failing field.
 */
import {
  billingPeriodOn,
  localDateOf,
  subscriptionPeriodDates,
  type SubscriptionTerms,
} from '@tally/billing-periods';
import type { CatalogStore } from './catalog-store';
import type { Subscription, SubscriptionAction, SubscriptionChange, SubscriptionInput } from './entities';
import type { Versioned } from './kv';
import { type FieldIssue, NotFoundError, ValidationFailedError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import { z } from 'zod';

/** When a change takes effect: `at` (`now`, the default, or `period_end`) or an explicit local `effective` date. */
export const whenSchema = z
  .object({
    at: z.enum(['now', 'period_end']).optional(),
    effective: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
      .optional(),
  })
  .strict();
export type When = z.infer<typeof whenSchema>;

/** Today in the customer's zone and the instant of the request (the service's clock). */
export interface LifecycleClock {
  today: string;
  recordedAt: string;
}

/** The subscriptions a change writes, in order: the first ends (or is replaced), the second starts. */
export interface LifecycleWrites {
  effective: string;
  writes: SubscriptionInput[];
}

function refuse(field: string, code: string, message: string): never {
  throw new ValidationFailedError([{ field, code, message }]);
}

function terms(sub: Subscription): SubscriptionTerms {
  return sub;
}

/** The effective date of a change to `sub`: `effective` as given, else today or the current period's end. */
export function effectiveDateOf(sub: Subscription, when: When, clock: LifecycleClock): string {
  if (when.at !== undefined && when.effective !== undefined)
    refuse('at', 'AMBIGUOUS_WHEN', "give either 'at' or 'effective', not both");
  if (when.effective !== undefined) {
    const d = when.effective;
    if (Number.isNaN(Date.parse(`${d}T00:00:00Z`)) || !new Date(`${d}T00:00:00Z`).toISOString().startsWith(d))
      refuse('effective', 'INVALID_DATE', 'is not a calendar date');
    return d;
  }
  // A subscription that has not started yet: its first day is "now", its first period the current one.
  const today = clock.today < sub.start ? sub.start : clock.today;
  if (when.at === 'period_end') {
    if (sub.end !== undefined && today >= sub.end)
      refuse('at', 'NOT_ACTIVE', `subscription '${sub.id}' ended on ${sub.end}: give 'effective'`);
    return subscriptionPeriodDates(terms(sub), today).end;
  }
  return today;
}

function nextVersion(sub: Subscription): number {
  return (sub.history?.at(-1)?.version ?? 1) + 1;
}

function change(
  version: number,
  action: SubscriptionAction,
  effective: string,
  clock: LifecycleClock,
  extra: Partial<SubscriptionChange> = {},
): SubscriptionChange {
  return { version, action, effective, recordedAt: clock.recordedAt, ...extra };
}

/** The history a subscription written before the lifecycle existed starts with: its creation. */
function historyOf(sub: Subscription): SubscriptionChange[] {
  return (
    sub.history ?? [
      {
        version: 1,
        action: 'created',
        effective: sub.start,
        recordedAt: sub.start + 'T00:00:00.000Z',
        plan: sub.plan,
      },
    ]
  );
}

function stored(sub: Subscription): SubscriptionInput {
  const { tenant, id, customer, plan, start, end, billingAnchorDay, trialEnd } = sub;
  return {
    tenant,
    id,
    customer,
    plan,
    start,
    ...(end !== undefined ? { end } : {}),
    ...(billingAnchorDay !== undefined ? { billingAnchorDay } : {}),
    ...(trialEnd !== undefined ? { trialEnd } : {}),
    history: historyOf(sub),
  };
}

/** The id of the subscription that continues `sub` at `version`: `<id without -vN>-v<version>`. */
export function continuationId(sub: Pick<Subscription, 'id'>, version: number): string {
  return `${sub.id.replace(/-v\d+$/, '').slice(0, 110)}-v${version}`;
}

/** Checks that `effective` is strictly inside the subscription's dates (a change needs days on both sides). */
function inside(sub: Subscription, effective: string): void {
  if (effective <= sub.start)
    refuse('effective', 'EFFECTIVE_NOT_AFTER_START', `must be after the subscription's start (${sub.start})`);
  if (sub.end !== undefined && effective >= sub.end)
    refuse('effective', 'SUBSCRIPTION_ENDED', `subscription '${sub.id}' ends on ${sub.end}`);
}

/**
 * A plan change on `effective`: `sub` ends there and a new subscription on `plan` starts there, with
 * the same anchor day (one period, prorated on both sides), the rest of any trial and the old end date.
 * On the subscription's first day the plan is replaced in place instead (nothing was used yet).
 */
export function planChange(
  sub: Subscription,
  plan: string,
  effective: string,
  clock: LifecycleClock,
  newId?: string,
): LifecycleWrites {
  if (plan === sub.plan) refuse('plan', 'SAME_PLAN', `subscription '${sub.id}' is already on plan '${plan}'`);
  const version = nextVersion(sub);
  const history = historyOf(sub);
  if (effective === sub.start) {
    const replaced = {
      ...stored(sub),
      plan,
      history: [...history, change(version, 'plan_changed', effective, clock, { plan })],
    };
    return { effective, writes: [replaced] };
  }
  inside(sub, effective);
  const id = newId ?? continuationId(sub, version);
  const ended: SubscriptionInput = {
    ...stored(sub),
    end: effective,
    history: [...history, change(version, 'plan_changed', effective, clock, { plan, continuedBy: id })],
  };
  const started: SubscriptionInput = {
    tenant: sub.tenant,
    id,
    customer: sub.customer,
    plan,
    start: effective,
    ...(sub.end !== undefined ? { end: sub.end } : {}),
    billingAnchorDay: sub.billingAnchorDay ?? Number(sub.start.slice(8, 10)),
    ...(sub.trialEnd !== undefined && sub.trialEnd > effective ? { trialEnd: sub.trialEnd } : {}),
    history: [change(version, 'plan_changed', effective, clock, { plan, continues: sub.id })],
  };
  return { effective, writes: [ended, started] };
}

/** A cancellation on `effective`: the subscription's last day billed is the day before. */
export function cancellation(sub: Subscription, effective: string, clock: LifecycleClock): LifecycleWrites {
  inside(sub, effective);
  const ended = {
    ...stored(sub),
    end: effective,
    history: [...historyOf(sub), change(nextVersion(sub), 'canceled', effective, clock)],
  };
  return { effective, writes: [ended] };
}

/**
 * A pause from `effective`: nothing is billed from then (the subscription ends there), until a resume
 * starts a continuation; with `resumeOn` the continuation is written now.
 */
export function pause(
  sub: Subscription,
  effective: string,
  clock: LifecycleClock,
  resumeOn?: string,
): LifecycleWrites {
  inside(sub, effective);
  const version = nextVersion(sub);
  const paused: SubscriptionInput = {
    ...stored(sub),
    end: effective,
    history: [...historyOf(sub), change(version, 'paused', effective, clock)],
  };
  if (resumeOn === undefined) return { effective, writes: [paused] };
  if (resumeOn <= effective)
    refuse('resumeOn', 'RESUME_NOT_AFTER_PAUSE', `must be after the pause (${effective})`);
  if (sub.end !== undefined && resumeOn >= sub.end)
    refuse('resumeOn', 'SUBSCRIPTION_ENDED', `subscription '${sub.id}' ends on ${sub.end}`);
  const [withLink, resumed] = resumption({ ...sub, ...paused } as Subscription, resumeOn, clock).writes;
  // The continuation keeps a scheduled end (a cancellation at the period's end stays).
  return {
    effective,
    writes: [withLink, { ...resumed, ...(sub.end !== undefined ? { end: sub.end } : {}) }],
  };
}

/** A resume on `effective` of a paused subscription: a continuation on the same plan and anchor day. */
export function resumption(sub: Subscription, effective: string, clock: LifecycleClock): LifecycleWrites {
  const last = sub.history?.at(-1);
  if (last?.action !== 'paused' || sub.end === undefined)
    refuse('subscription', 'NOT_PAUSED', `subscription '${sub.id}' is not paused`);
  if (effective < sub.end)
    refuse('effective', 'RESUME_BEFORE_PAUSE', `must be on or after the pause (${sub.end})`);
  const version = last.version + 1;
  const id = continuationId(sub, version);
  const paused: SubscriptionInput = {
    ...stored(sub),
    history: [...historyOf(sub).slice(0, -1), { ...last, continuedBy: id }],
  };
  const resumed: SubscriptionInput = {
    tenant: sub.tenant,
    id,
    customer: sub.customer,
    plan: sub.plan,
    start: effective,
    billingAnchorDay: sub.billingAnchorDay ?? Number(sub.start.slice(8, 10)),
    history: [change(version, 'resumed', effective, clock, { plan: sub.plan, continues: sub.id })],
  };
  return { effective, writes: [paused, resumed] };
}

/** A new subscription, with a trial of `trialDays` days from its start when asked. */
export function creation(
  input: {
    tenant: string;
    id: string;
    customer: string;
    plan: string;
    start: string;
    billingAnchorDay?: number;
    trialDays?: number;
  },
  clock: LifecycleClock,
): LifecycleWrites {
  const issues: FieldIssue[] = [];
  if (
    input.trialDays !== undefined &&
    !(Number.isInteger(input.trialDays) && input.trialDays >= 1 && input.trialDays <= 3660)
  )
    issues.push({
      field: 'trialDays',
      code: 'INVALID_VALUE',
      message: 'must be a whole number of days, 1-3660',
    });
  if (issues.length) throw new ValidationFailedError(issues);
  const trialEnd =
    input.trialDays === undefined
      ? undefined
      : new Date(Date.parse(`${input.start}T00:00:00Z`) + input.trialDays * 86_400_000)
          .toISOString()
          .slice(0, 10);
  const rest: Omit<typeof input, 'trialDays'> & { trialDays?: number } = { ...input };
  delete rest.trialDays;
  return {
    effective: input.start,
    writes: [
      {
        ...rest,
        ...(trialEnd !== undefined ? { trialEnd } : {}),
        history: [
          {
            version: 1,
            action: 'created',
            effective: input.start,
            recordedAt: clock.recordedAt,
            plan: input.plan,
          },
        ],
      },
    ],
  };
}

/** The billing period (`YYYY-MM`) a change dated `effective` falls in, for the answer. */
export function periodOfChange(sub: Subscription, effective: string): string {
  return billingPeriodOn(terms(sub), effective);
}

// ------------------------------------------------------------------------------------------- service

export const createSubscriptionSchema = z
  .object({
    id: z.string(),
    customer: z.string(),
    plan: z.string(),
    /** Today in the customer's zone when absent. */
    start: z.string().optional(),
    billingAnchorDay: z.number().int().min(1).max(31).optional(),
    trialDays: z.number().optional(),
  })
  .strict();
export const changePlanSchema = whenSchema
  .extend({ plan: z.string(), newSubscriptionId: z.string().optional() })
  .strict();
export const pauseSchema = whenSchema.extend({ resumeOn: z.string().optional() }).strict();

/** What the lifecycle service reads and writes (a slice of `CatalogStore`). */
export type LifecycleStorePort = Pick<
  CatalogStore,
  'getTenant' | 'getCustomer' | 'getPlan' | 'getSubscription' | 'putSubscription'
>;

/** The answer of a lifecycle call: the effective date, its billing period and what was written. */
export interface LifecycleResult {
  effective: string;
  period: string;
  subscriptions: Array<Subscription & { revision: number }>;
}

/**
 * Reads the subscription, applies one of the rules above and writes the result with optimistic
 * concurrency (a concurrent change of the same subscription gets 409, nothing half-written by it).
 *
 * Two writes when a change starts a new subscription: the new one first (created only if absent),
 * then the old one's end (only if unchanged since read). A crash between them leaves both active
 * from the effective date until the same request is repeated: the repeat finds the new subscription
 * it would create (same id, same start, same plan, continuing the old one), keeps it and ends the old.
 */
export class SubscriptionLifecycleService {
  constructor(
    private readonly store: LifecycleStorePort,
    private readonly now: () => number = Date.now,
  ) {}

  async create(tenant: string, body: unknown): Promise<LifecycleResult> {
    const input = parse(createSubscriptionSchema, body);
    const clock = await this.clockFor(tenant, input.customer);
    const { writes } = creation({ tenant, ...input, start: input.start ?? clock.today }, clock);
    const written = await this.write(tenant, writes, { createFirst: true });
    return this.result(written[0].value, writes[0].start, written);
  }

  async changePlan(tenant: string, id: string, body: unknown): Promise<LifecycleResult> {
    const input = parse(changePlanSchema, body);
    const { sub, clock } = await this.load(tenant, id);
    const [from, to] = await Promise.all([
      this.store.getPlan(tenant, sub.plan),
      this.store.getPlan(tenant, input.plan),
    ]);
    if (!to) refuse('plan', 'UNKNOWN_PLAN', `plan '${input.plan}' does not exist`);
    if (from && from.value.currency !== to.value.currency)
      refuse(
        'plan',
        'MIXED_CURRENCIES',
        `plan '${input.plan}' is in ${to.value.currency}, the subscription in ${from.value.currency}`,
      );
    const effective = effectiveDateOf(sub, input, clock);
    return this.apply(tenant, sub, planChange(sub, input.plan, effective, clock, input.newSubscriptionId));
  }

  async cancel(tenant: string, id: string, body: unknown): Promise<LifecycleResult> {
    const input = parse(whenSchema, body ?? {});
    const { sub, clock } = await this.load(tenant, id);
    return this.apply(tenant, sub, cancellation(sub, effectiveDateOf(sub, input, clock), clock));
  }

  async pause(tenant: string, id: string, body: unknown): Promise<LifecycleResult> {
    const input = parse(pauseSchema, body ?? {});
    const { sub, clock } = await this.load(tenant, id);
    return this.apply(tenant, sub, pause(sub, effectiveDateOf(sub, input, clock), clock, input.resumeOn));
  }

  async resume(tenant: string, id: string, body: unknown): Promise<LifecycleResult> {
    const input = parse(whenSchema, body ?? {});
    const { sub, clock } = await this.load(tenant, id);
    if (input.at === 'period_end')
      refuse('at', 'INVALID_VALUE', "a resume is 'now' or on an 'effective' date");
    const effective =
      input.effective ?? (sub.end !== undefined && clock.today < sub.end ? sub.end : clock.today);
    return this.apply(
      tenant,
      sub,
      resumption(sub, effectiveDateOf({ ...sub, start: sub.end ?? sub.start }, { effective }, clock), clock),
    );
  }

  private async apply(tenant: string, sub: Subscription & { revision: number }, change: LifecycleWrites) {
    const [own, ...started] = change.writes;
    const written = [
      ...(await this.write(tenant, started, { createFirst: true })),
      ...(await this.write(tenant, [own], { expectedRevision: sub.revision })),
    ];
    return this.result(sub, change.effective, [written.at(-1) as Written, ...written.slice(0, -1)]);
  }

  private async write(
    tenant: string,
    writes: readonly SubscriptionInput[],
    options: { createFirst: true } | { expectedRevision: number },
  ): Promise<Written[]> {
    const out: Written[] = [];
    for (const w of writes) {
      if ('expectedRevision' in options) {
        out.push(
          await this.store.putSubscription({ ...w, tenant }, { expectedRevision: options.expectedRevision }),
        );
        continue;
      }
      const existing = await this.store.getSubscription(tenant, w.id);
      if (existing) {
        const e = existing.value;
        const same =
          e.customer === w.customer &&
          e.plan === w.plan &&
          e.start === w.start &&
          e.history?.[0]?.continues === w.history?.[0]?.continues &&
          w.history?.[0]?.continues !== undefined;
        if (!same) refuse('id', 'SUBSCRIPTION_EXISTS', `subscription '${w.id}' already exists`);
        out.push(existing);
        continue;
      }
      out.push(await this.store.putSubscription({ ...w, tenant }, { expectedRevision: 0 }));
    }
    return out;
  }

  private result(sub: Subscription, effective: string, written: readonly Written[]): LifecycleResult {
    return {
      effective,
      period: periodOfChange(sub, effective),
      subscriptions: written.map((v) => ({ ...v.value, revision: v.revision })),
    };
  }

  private async load(tenant: string, id: string) {
    const found = await this.store.getSubscription(tenant, id);
    if (!found) throw new NotFoundError('Subscription', id);
    const sub = { ...found.value, revision: found.revision };
    return { sub, clock: await this.clockFor(tenant, sub.customer) };
  }

  /** Today in the customer's zone (else the tenant's), and now. */
  private async clockFor(tenant: string, customer: string): Promise<LifecycleClock> {
    const [t, c] = await Promise.all([
      this.store.getTenant(tenant),
      this.store.getCustomer(tenant, customer),
    ]);
    if (!t) throw new NotFoundError('Tenant', tenant);
    if (!c) refuse('customer', 'UNKNOWN_CUSTOMER', `customer '${customer}' does not exist`);
    const now = this.now();
    return {
      today: localDateOf(now, c.value.timezone ?? t.value.timezone),
      recordedAt: new Date(now).toISOString(),
    };
  }
}

type Written = Versioned<Subscription>;

function parse<S extends z.ZodTypeAny>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ValidationFailedError(fieldIssuesFromZod(parsed.error));
  return parsed.data;
}
