import { isCurrencyCode, minorUnitExponent } from './currency';
import { type Dec, dec, decimalProblem } from './decimal';
import { PricingError, type PricingErrorCode, type PricingIssue, type PricingIssueCode } from './errors';
import type { ChargeKind, Plan, PricingInput } from './types';

export const CHARGE_KINDS: readonly ChargeKind[] = Object.freeze([
  'flat',
  'per_unit',
  'package',
  'graduated',
  'volume',
]);

/** Charge ids used by the plan-level invoice lines; a charge may not use them. */
export const MINIMUM_TRUE_UP_ID = 'minimum_true_up';
export const MAXIMUM_ADJUSTMENT_ID = 'maximum_adjustment';
const RESERVED_CHARGE_IDS: readonly string[] = [MINIMUM_TRUE_UP_ID, MAXIMUM_ADJUSTMENT_ID];

const PLAN_FIELDS = [
  'id',
  'currency',
  'charges',
  'minimumCommitment',
  'maximum',
  'name',
  'metadata',
  'proration',
  'segmentTiers',
  'progressiveBilling',
];
const PROGRESSIVE_FIELDS = ['thresholds', 'repeatEvery'];
const CHARGE_FIELDS = ['kind', 'id', 'name', 'description', 'metadata'];
const METERED_FIELDS = ['meter', 'freeUnits'];
const KIND_FIELDS: Record<ChargeKind, string[]> = {
  flat: ['amount'],
  per_unit: [...METERED_FIELDS, 'unitPrice'],
  package: [...METERED_FIELDS, 'packageSize', 'packagePrice'],
  graduated: [...METERED_FIELDS, 'tiers'],
  volume: [...METERED_FIELDS, 'tiers'],
};
const TIER_FIELDS = ['upTo', 'unitPrice', 'flatFee'];

type Sign = 'price' | 'amount' | 'quantity' | 'positive' | 'any';
const NEGATIVE_CODE: Record<Exclude<Sign, 'positive' | 'any'>, PricingIssueCode> = {
  price: 'NEGATIVE_PRICE',
  amount: 'NEGATIVE_AMOUNT',
  quantity: 'NEGATIVE_QUANTITY',
};

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function join(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  const part = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (!base) return part;
  return part.startsWith('[') ? `${base}${part}` : `${base}.${part}`;
}

/** Collects issues with paths under one root. */
class Issues {
  readonly list: PricingIssue[] = [];

  add(field: string, code: PricingIssueCode, message: string): void {
    this.list.push({ field, code, message });
  }

  unknownFields(obj: Obj, allowed: readonly string[], path: string, what: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        this.add(
          join(path, key),
          'UNKNOWN_FIELD',
          `'${key}' is not a field of ${what}; allowed: ${allowed.join(', ')}`,
        );
      }
    }
  }

  requiredString(obj: Obj, key: string, path: string): string | undefined {
    const value = obj[key];
    if (typeof value === 'string' && value.length > 0) return value;
    this.add(join(path, key), 'REQUIRED', `'${key}' must be a non-empty string`);
    return undefined;
  }

  optionalType(obj: Obj, key: string, path: string, type: 'string' | 'labels'): void {
    if (!hasOwn(obj, key) || obj[key] === undefined) return;
    const value = obj[key];
    const ok =
      type === 'string'
        ? typeof value === 'string'
        : isObject(value) && Object.values(value).every((v) => typeof v === 'string');
    if (!ok) {
      this.add(
        join(path, key),
        'REQUIRED',
        type === 'string' ? `'${key}' must be a string` : `'${key}' must be an object of strings`,
      );
    }
  }

  /** Checks a decimal field; returns it parsed when present and well-formed (even if its sign is wrong). */
  decimal(obj: Obj, key: string, path: string, sign: Sign, required: boolean): Dec | undefined {
    const field = join(path, key);
    if (!hasOwn(obj, key) || obj[key] === undefined) {
      if (required) this.add(field, 'REQUIRED', `'${key}' is required: a decimal string such as "12.5"`);
      return undefined;
    }
    const problem = decimalProblem(obj[key]);
    if (problem) {
      this.add(field, 'INVALID_DECIMAL', `'${key}' ${problem}`);
      return undefined;
    }
    const value = dec(obj[key] as string);
    if (sign === 'positive') {
      if (!value.gt(0)) this.add(field, 'PACKAGE_SIZE_NOT_POSITIVE', `'${key}' must be greater than 0`);
    } else if (sign !== 'any' && value.isNeg()) {
      this.add(field, NEGATIVE_CODE[sign], `'${key}' must not be negative`);
    }
    return value;
  }
}

function checkTiers(issues: Issues, charge: Obj, path: string): void {
  const field = join(path, 'tiers');
  const tiers = charge.tiers;
  if (!Array.isArray(tiers)) {
    issues.add(field, 'REQUIRED', `'tiers' must be an array of tiers`);
    return;
  }
  if (tiers.length === 0) {
    issues.add(field, 'TIERS_EMPTY', 'at least one tier is required; the last one has "upTo": null');
    return;
  }
  let previous: Dec | undefined;
  let unbounded = false;
  tiers.forEach((tier: unknown, i) => {
    const tierPath = join(field, i);
    const last = i === tiers.length - 1;
    if (!isObject(tier)) {
      issues.add(tierPath, 'REQUIRED', 'each tier must be an object with upTo and unitPrice');
      return;
    }
    issues.unknownFields(tier, TIER_FIELDS, tierPath, 'a tier');
    issues.decimal(tier, 'unitPrice', tierPath, 'price', true);
    issues.decimal(tier, 'flatFee', tierPath, 'price', false);

    const upToPath = join(tierPath, 'upTo');
    if (!hasOwn(tier, 'upTo') || tier.upTo === undefined) {
      issues.add(upToPath, 'REQUIRED', `'upTo' is required: a decimal string, or null for the last tier`);
      return;
    }
    if (tier.upTo === null) {
      if (!last) issues.add(upToPath, 'UNBOUNDED_TIER_NOT_LAST', `only the last tier may have "upTo": null`);
      unbounded = true;
      return;
    }
    const upTo = issues.decimal(tier, 'upTo', tierPath, 'any', true);
    if (last) {
      issues.add(
        upToPath,
        'LAST_TIER_MUST_BE_UNBOUNDED',
        `the last tier must have "upTo": null so that every quantity has a tier`,
      );
    }
    if (upTo === undefined) return;
    if (!upTo.gt(0)) {
      issues.add(upToPath, 'TIER_BOUND_NOT_POSITIVE', `'upTo' must be greater than 0`);
      return;
    }
    if (unbounded) return; // already reported on the unbounded tier
    if (previous !== undefined && upTo.lte(previous)) {
      issues.add(
        upToPath,
        'TIERS_NOT_ASCENDING',
        `'upTo' ${upTo.toFixed()} must be greater than the previous tier's ${previous.toFixed()}`,
      );
      return;
    }
    previous = upTo;
  });
}

function checkCharge(issues: Issues, charge: unknown, path: string, seen: Map<string, string>): void {
  if (!isObject(charge)) {
    issues.add(path, 'REQUIRED', 'each charge must be an object');
    return;
  }
  const id = issues.requiredString(charge, 'id', path);
  if (id !== undefined) {
    if (RESERVED_CHARGE_IDS.includes(id)) {
      issues.add(join(path, 'id'), 'RESERVED_CHARGE_ID', `'${id}' is reserved for plan-level invoice lines`);
    } else if (seen.has(id)) {
      issues.add(
        join(path, 'id'),
        'DUPLICATE_CHARGE_ID',
        `charge id '${id}' is already used by ${seen.get(id)}`,
      );
    } else {
      seen.set(id, path);
    }
  }
  issues.requiredString(charge, 'name', path);
  issues.optionalType(charge, 'description', path, 'string');
  issues.optionalType(charge, 'metadata', path, 'labels');

  const kind = charge.kind;
  if (typeof kind !== 'string' || !(CHARGE_KINDS as readonly string[]).includes(kind)) {
    issues.add(join(path, 'kind'), 'UNKNOWN_CHARGE_KIND', `'kind' must be one of ${CHARGE_KINDS.join(', ')}`);
    return;
  }
  const k = kind as ChargeKind;
  issues.unknownFields(charge, [...CHARGE_FIELDS, ...KIND_FIELDS[k]], path, `a ${k} charge`);
  if (k === 'flat') {
    issues.decimal(charge, 'amount', path, 'price', true);
    return;
  }
  issues.requiredString(charge, 'meter', path);
  issues.decimal(charge, 'freeUnits', path, 'quantity', false);
  switch (k) {
    case 'per_unit':
      issues.decimal(charge, 'unitPrice', path, 'price', true);
      break;
    case 'package':
      issues.decimal(charge, 'packageSize', path, 'positive', true);
      issues.decimal(charge, 'packagePrice', path, 'price', true);
      break;
    case 'graduated':
    case 'volume':
      checkTiers(issues, charge, path);
      break;
  }
}

function checkPlan(issues: Issues, plan: unknown, path: string): void {
  if (!isObject(plan)) {
    issues.add(path, 'REQUIRED', 'the plan must be an object');
    return;
  }
  issues.unknownFields(plan, PLAN_FIELDS, path, 'a plan');
  issues.requiredString(plan, 'id', path);
  issues.optionalType(plan, 'name', path, 'string');
  issues.optionalType(plan, 'metadata', path, 'labels');

  const currencyOk = isCurrencyCode(plan.currency);
  if (!currencyOk) {
    issues.add(
      join(path, 'currency'),
      'UNKNOWN_CURRENCY_FORMAT',
      `'currency' must be an ISO 4217 code: three upper-case letters such as "USD"`,
    );
  }

  if (!Array.isArray(plan.charges)) {
    issues.add(join(path, 'charges'), 'REQUIRED', `'charges' must be an array (it may be empty)`);
  } else {
    const seen = new Map<string, string>();
    plan.charges.forEach((charge: unknown, i) =>
      checkCharge(issues, charge, join(join(path, 'charges'), i), seen),
    );
  }

  if (plan.proration !== undefined && plan.proration !== 'day' && plan.proration !== 'second')
    issues.add(join(path, 'proration'), 'REQUIRED', `'proration' must be "day" or "second"`);
  if (plan.segmentTiers !== undefined && plan.segmentTiers !== 'reset' && plan.segmentTiers !== 'carry_over')
    issues.add(join(path, 'segmentTiers'), 'REQUIRED', `'segmentTiers' must be "reset" or "carry_over"`);

  const minimum = issues.decimal(plan, 'minimumCommitment', path, 'amount', false);
  const maximum = issues.decimal(plan, 'maximum', path, 'amount', false);
  if (currencyOk) {
    const exponent = minorUnitExponent(plan.currency as string);
    for (const [key, value] of [
      ['minimumCommitment', minimum],
      ['maximum', maximum],
    ] as const) {
      if (value !== undefined && value.decimalPlaces() > exponent) {
        issues.add(
          join(path, key),
          'TOO_PRECISE_FOR_CURRENCY',
          `'${key}' has ${value.decimalPlaces()} decimals but ${plan.currency} has ${exponent}`,
        );
      }
    }
  }
  if (minimum !== undefined && maximum !== undefined && minimum.gt(maximum)) {
    issues.add(
      join(path, 'minimumCommitment'),
      'MINIMUM_EXCEEDS_MAXIMUM',
      `'minimumCommitment' must not exceed 'maximum'`,
    );
  }
  if (plan.progressiveBilling !== undefined)
    checkProgressive(
      issues,
      plan.progressiveBilling,
      join(path, 'progressiveBilling'),
      currencyOk ? (plan.currency as string) : undefined,
    );
}

/** `progressiveBilling`: positive amounts, ascending, no finer than the currency's minor unit. */
function checkProgressive(
  issues: Issues,
  setting: unknown,
  path: string,
  currency: string | undefined,
): void {
  if (!isObject(setting)) {
    issues.add(
      path,
      'REQUIRED',
      `'progressiveBilling' must be an object with 'thresholds' and/or 'repeatEvery'`,
    );
    return;
  }
  issues.unknownFields(setting, PROGRESSIVE_FIELDS, path, 'progressiveBilling');
  const exponent = currency === undefined ? undefined : minorUnitExponent(currency);
  const amount = (value: unknown, field: string): Dec | undefined => {
    if (value === undefined) {
      issues.add(field, 'REQUIRED', `'${field}' is required: a decimal string such as "1000.00"`);
      return undefined;
    }
    const problem = decimalProblem(value);
    if (problem) {
      issues.add(field, 'INVALID_DECIMAL', `'${field}' ${problem}`);
      return undefined;
    }
    const parsed = dec(value as string);
    if (!parsed.gt(0)) issues.add(field, 'THRESHOLD_NOT_POSITIVE', `'${field}' must be greater than 0`);
    else if (exponent !== undefined && parsed.decimalPlaces() > exponent)
      issues.add(
        field,
        'TOO_PRECISE_FOR_CURRENCY',
        `'${field}' has ${parsed.decimalPlaces()} decimals but ${currency} has ${exponent}`,
      );
    return parsed;
  };
  const { thresholds } = setting;
  if (thresholds !== undefined) {
    if (!Array.isArray(thresholds)) {
      issues.add(join(path, 'thresholds'), 'REQUIRED', `'thresholds' must be an array of decimal strings`);
    } else {
      let previous: Dec | undefined;
      thresholds.forEach((raw: unknown, i) => {
        const field = join(join(path, 'thresholds'), i);
        const value = amount(raw, field);
        if (value !== undefined && previous !== undefined && !value.gt(previous))
          issues.add(
            field,
            'THRESHOLDS_NOT_ASCENDING',
            `thresholds must be strictly ascending: ${value.toString()} follows ${previous.toString()}`,
          );
        if (value !== undefined) previous = value;
      });
    }
  }
  if (setting.repeatEvery !== undefined) amount(setting.repeatEvery, join(path, 'repeatEvery'));
  const none = (!Array.isArray(thresholds) || thresholds.length === 0) && setting.repeatEvery === undefined;
  if (none)
    issues.add(
      path,
      'PROGRESSIVE_BILLING_EMPTY',
      `'progressiveBilling' needs 'thresholds' (non-empty) or 'repeatEvery'`,
    );
}

function checkPeriod(issues: Issues, period: unknown, path: string): void {
  if (!isObject(period)) {
    issues.add(path, 'INVALID_PERIOD', `'period' must be an object with daysInPeriod and activeDays`);
    return;
  }
  const days = period.daysInPeriod;
  const active = period.activeDays;
  const daysOk = Number.isSafeInteger(days) && (days as number) >= 1;
  if (!daysOk)
    issues.add(join(path, 'daysInPeriod'), 'INVALID_PERIOD', `'daysInPeriod' must be an integer ≥ 1`);
  if (
    !Number.isSafeInteger(active) ||
    (active as number) < 0 ||
    (daysOk && (active as number) > (days as number))
  ) {
    issues.add(
      join(path, 'activeDays'),
      'INVALID_PERIOD',
      `'activeDays' must be an integer from 0 to daysInPeriod`,
    );
  }
}

function checkUsage(issues: Issues, usage: unknown, path: string): void {
  if (!isObject(usage)) {
    issues.add(path, 'REQUIRED', `'usage' must be an object of meter key → decimal string (it may be empty)`);
    return;
  }
  for (const key of Object.keys(usage)) {
    issues.decimal(usage, key, path, 'quantity', true);
  }
}

/**
 * Checks a plan (typically raw JSON from an operator) and returns every problem, `[]` when valid. Paths
 * are relative to the plan, e.g. `charges[1].tiers[0].upTo`. Stable codes: see `PRICING_ISSUE_CODES`.
 */
export function validatePlan(plan: unknown): PricingIssue[] {
  const issues = new Issues();
  checkPlan(issues, plan, '');
  return issues.list;
}

/** Throws `PricingError('INVALID_PLAN')` listing every problem unless `plan` is a valid `Plan`. */
export function assertValidPlan(plan: unknown): asserts plan is Plan {
  const issues = validatePlan(plan);
  if (issues.length) throw new PricingError('INVALID_PLAN', summarize('Invalid plan', issues), issues);
}

/**
 * Checks a whole pricing input: the plan (paths `plan.…`), every usage value (`usage.<meter>`, or
 * `usage["meter:profile"]`) and the period (`period.activeDays`). Every usage entry is checked, also
 * those no charge reads.
 */
export function validatePricingInput(input: unknown): PricingIssue[] {
  const issues = new Issues();
  if (!isObject(input)) {
    issues.add('', 'REQUIRED', 'the pricing input must be an object with plan, usage and period');
    return issues.list;
  }
  checkPlan(issues, input.plan, 'plan');
  checkPeriod(issues, input.period, 'period');
  checkUsage(issues, input.usage, 'usage');
  return issues.list;
}

/** Throws `PricingError` (INVALID_PLAN, else INVALID_PERIOD, else INVALID_USAGE) unless the input is valid. */
export function assertValidPricingInput(input: unknown): asserts input is PricingInput {
  const issues = validatePricingInput(input);
  if (!issues.length) return;
  const under = (root: string) =>
    issues.some((i) => i.field === root || i.field.startsWith(`${root}.`) || i.field.startsWith(`${root}[`));
  const [code, label]: [PricingErrorCode, string] = under('plan')
    ? ['INVALID_PLAN', 'Invalid plan']
    : under('period')
      ? ['INVALID_PERIOD', 'Invalid period']
      : under('usage')
        ? ['INVALID_USAGE', 'Invalid usage']
        : ['INVALID_ARGUMENT', 'Invalid pricing input'];
  throw new PricingError(code, summarize(label, issues), issues);
}

function summarize(label: string, issues: PricingIssue[]): string {
  const first = issues[0];
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more, see details)` : '';
  return `${label}: ${first.field || '(root)'} ${first.code}: ${first.message}${more}`;
}
