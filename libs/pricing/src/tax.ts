/**
 * Taxes: rates by jurisdiction, exclusive (added on top) or inclusive (already in the price), several
 * per line, exemptions, rounded per line and per rate half-even, as the ledger rounds every line.
 *
 * `TaxCalculator` is the port an external tax engine plugs into: it receives each line's taxable amount
 * (after discounts and credits) and returns the taxes of each line. `rateTableTaxCalculator` is the
 * built-in one, from a table of `TaxRate`s.
 */
import { type Dec, ZERO, dec, decimalProblem, str } from './decimal';
import { PricingError, type PricingIssue } from './errors';
import { minorArg, roundHalfEvenSigned } from './money';
import type { DecimalString } from './types';

export interface TaxRate {
  id: string;
  /** Shown on the invoice, e.g. "VAT 20 %". */
  name: string;
  /**
   * Where it applies: a code such as `FR`, `US-NY` or `US-NY-NYC`. A customer in `US-NY-NYC` pays the
   * rates of `US`, `US-NY` and `US-NY-NYC` (each segment before a `-` is a parent jurisdiction).
   */
  jurisdiction: string;
  /** Percent as a decimal string: `"20"`, `"8.875"`. */
  percent: DecimalString;
  /** `true`: prices already include it (it is carved out of the line); `false`: added on top. */
  inclusive: boolean;
}

/** What taxes a customer pays: where they are, and what they are exempt from. */
export interface TaxProfile {
  /** The customer's jurisdiction code; without one, no rate applies. */
  jurisdiction?: string;
  /** Exempt from every tax (e.g. a reverse-charge B2B customer): lines are taxed at zero. */
  exempt?: boolean;
  /** Exempt from these rate ids only. */
  exemptRates?: string[];
}

/** One line's taxable amount, as a tax engine sees it. */
export interface TaxableLine {
  lineId: string;
  /** After discounts and credits, in minor units; includes the inclusive taxes. May be negative. */
  taxableMinor: string;
}

export interface TaxRequest {
  currency: string;
  profile: TaxProfile;
  lines: TaxableLine[];
}

/** One tax on one line. */
export interface LineTax {
  rateId: string;
  name: string;
  percent: DecimalString;
  inclusive: boolean;
  /** The amount the tax is computed on: the line's net amount (without inclusive taxes). */
  baseMinor: string;
  amountMinor: string;
}

export interface TaxResult {
  lines: Array<{ lineId: string; taxes: LineTax[] }>;
}

/** The port of a tax calculation inside the pure invoice computation (synchronous). */
export interface TaxCalculator {
  calculate(request: TaxRequest): TaxResult;
}

/**
 * The port an external tax engine (Avalara, Stripe Tax, a service of your own) plugs into: the same
 * request and answer as `TaxCalculator`, possibly asynchronous. The invoice issuer and the rebiller
 * call it outside the pure computation (`@tally/billing` `withTaxEngine`); `rateTableTaxCalculator`
 * is the built-in, synchronous one.
 */
export interface TaxEngine {
  calculate(request: TaxRequest): TaxResult | Promise<TaxResult>;
}

/** Rates of `rates` that apply to `jurisdiction` (its own and its parents'), minus the exemptions. */
export function applicableRates(rates: readonly TaxRate[], profile: TaxProfile): TaxRate[] {
  const j = profile.jurisdiction;
  if (!j || profile.exempt) return [];
  const exempt = new Set(profile.exemptRates ?? []);
  return rates.filter(
    (r) => !exempt.has(r.id) && (r.jurisdiction === j || j.startsWith(`${r.jurisdiction}-`)),
  );
}

/**
 * Taxes of one line of `taxableMinor` (a gross amount when inclusive rates apply):
 * - net = taxable ÷ (1 + Σ inclusive % / 100), exact; each inclusive tax = round(net × % / 100);
 *   the net shown is `taxable − Σ inclusive taxes`, so net + inclusive taxes = taxable exactly;
 * - each exclusive tax = round(net shown × % / 100), on top.
 * Rounding is half-even, per line and per rate. Several rates never compound (each on the same net).
 */
export function taxLine(taxableMinor: Dec, rates: readonly TaxRate[]): { netMinor: Dec; taxes: LineTax[] } {
  const inclusive = rates.filter((r) => r.inclusive);
  const exclusive = rates.filter((r) => !r.inclusive);
  const inclusivePercent = inclusive.reduce((s, r) => s.plus(dec(r.percent)), ZERO);
  const exactNet = taxableMinor.times(100).div(inclusivePercent.plus(100));
  const taxes: LineTax[] = [];
  let net = taxableMinor;
  for (const r of inclusive) {
    const amount = roundHalfEvenSigned(exactNet.times(dec(r.percent)).div(100));
    net = net.minus(amount);
    taxes.push({ ...describe(r), baseMinor: '', amountMinor: str(amount) });
  }
  for (const t of taxes) t.baseMinor = str(net);
  for (const r of exclusive) {
    const amount = roundHalfEvenSigned(net.times(dec(r.percent)).div(100));
    taxes.push({ ...describe(r), baseMinor: str(net), amountMinor: str(amount) });
  }
  return { netMinor: net, taxes };
}

function describe(r: TaxRate): Omit<LineTax, 'baseMinor' | 'amountMinor'> {
  return { rateId: r.id, name: r.name, percent: str(dec(r.percent)), inclusive: r.inclusive };
}

/** The built-in calculator: every line taxed with the rates of the customer's jurisdiction. */
export function rateTableTaxCalculator(rates: readonly TaxRate[]): TaxCalculator {
  assertValidTaxRates(rates);
  return {
    calculate(request: TaxRequest): TaxResult {
      const apply = applicableRates(rates, request.profile);
      return {
        lines: request.lines.map((l) => ({
          lineId: l.lineId,
          taxes: apply.length === 0 ? [] : taxLine(minorArg(l.taxableMinor, 'taxableMinor'), apply).taxes,
        })),
      };
    },
  };
}

/** Every problem of a rate table: ids unique, percent a decimal in [0, 100], jurisdiction set. */
export function validateTaxRates(rates: readonly TaxRate[]): PricingIssue[] {
  const issues: PricingIssue[] = [];
  const seen = new Set<string>();
  rates.forEach((r, i) => {
    if (typeof r.id !== 'string' || r.id === '')
      issues.push({ field: `taxRates[${i}].id`, code: 'REQUIRED', message: 'is required' });
    else if (seen.has(r.id))
      issues.push({
        field: `taxRates[${i}].id`,
        code: 'DUPLICATE_CHARGE_ID',
        message: `'${r.id}' is used twice`,
      });
    seen.add(r.id);
    if (typeof r.jurisdiction !== 'string' || !/^[A-Z0-9]+(-[A-Z0-9]+)*$/.test(r.jurisdiction))
      issues.push({
        field: `taxRates[${i}].jurisdiction`,
        code: 'REQUIRED',
        message: 'must be a code such as "FR" or "US-NY-NYC"',
      });
    const problem = decimalProblem(r.percent);
    if (problem) issues.push({ field: `taxRates[${i}].percent`, code: 'INVALID_DECIMAL', message: problem });
    else if (dec(r.percent).isNeg() || dec(r.percent).gt(100))
      issues.push({
        field: `taxRates[${i}].percent`,
        code: 'NEGATIVE_AMOUNT',
        message: 'must be in [0, 100]',
      });
    if (typeof r.inclusive !== 'boolean')
      issues.push({ field: `taxRates[${i}].inclusive`, code: 'REQUIRED', message: 'must be true or false' });
  });
  return issues;
}

export function assertValidTaxRates(rates: readonly TaxRate[]): void {
  const issues = validateTaxRates(rates);
  if (issues.length) throw new PricingError('INVALID_ARGUMENT', 'Invalid tax rates', issues);
}
