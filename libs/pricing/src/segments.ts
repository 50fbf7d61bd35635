/**
 * A period split by plan changes: each segment priced under the plan in force during it.
 *
 * - Flat fees: prorated by the segment's share of the full period, in days or seconds (the segment's
 *   plan's `proration`). Rounded cumulatively: the segment from offset `a` to `b` gets
 *   `round(A × b / L) − round(A × a / L)` minor units, so consecutive segments of an unchanged plan add
 *   up to exactly the whole-period fee (no rounding drift).
 * - Usage: each segment prices the usage that happened in it. With the segment plan's `segmentTiers`
 *   `carry_over`, its tiers (and free units) continue from the usage of the earlier segments of the
 *   period: the segment costs `price(before + q) − price(before)` under its plan, rounded the same
 *   cumulative way. With `reset` (the default) they count from zero.
 * - Minimum and maximum: each segment's plan's, prorated by the segment's share (cumulatively rounded),
 *   applied to the segment's own charges.
 */
import { minorFactor, minorUnitExponent, roundToMinor } from './currency';
import { D, type Dec, ZERO, dec, divideRoundHalfEven, max, min, str } from './decimal';
import { PricingError } from './errors';
import { priceUsage } from './price';
import type { Charge, InvoiceLineDraft, Plan, TierBreakdown } from './types';
import { MAXIMUM_ADJUSTMENT_ID, MINIMUM_TRUE_UP_ID } from './validate';

export interface PlanSegment {
  plan: Plan;
  /** Offsets from the period's start, in days and in seconds (`[start, end)`). */
  startDay: number;
  endDay: number;
  startSecond: number;
  endSecond: number;
  /** Usage that happened in this segment, by series key. */
  usage: Record<string, string>;
}

export interface SegmentedPricingInput {
  /** Length of the full billing period. */
  periodDays: number;
  periodSeconds: number;
  /** Consecutive, in time order, covering the part of the period the customer was subscribed. */
  segments: PlanSegment[];
}

export interface SegmentLine extends InvoiceLineDraft {
  plan: string;
  segment: number;
  /** Carry-over lines: the usage of the earlier segments the tiers started from. */
  carriedOver?: string;
}

export interface SegmentedPrice {
  currency: string;
  lines: SegmentLine[];
  totalMinor: string;
}

/** `round(amount × num / den)` in minor units, from the exact fraction. */
function share(amountMinorExact: Dec, num: number, den: number): Dec {
  if (num === den) return amountMinorExact.toDecimalPlaces(0, D.ROUND_HALF_EVEN);
  return divideRoundHalfEven(amountMinorExact.times(num), new D(den), 0).value;
}

function onePlan(plan: Plan, charge: Charge): Plan {
  return { id: plan.id, currency: plan.currency, charges: [charge] };
}

function diffTiers(after: TierBreakdown[] = [], before: TierBreakdown[] = []): TierBreakdown[] {
  const out: TierBreakdown[] = [];
  for (const a of after) {
    const b = before.find((t) => t.tier === a.tier);
    const quantity = dec(a.quantity).minus(b ? b.quantity : '0');
    const amount = dec(a.amount).minus(b ? b.amount : '0');
    if (quantity.isZero() && amount.isZero()) continue;
    out.push({ ...a, quantity: str(quantity), flatFee: b ? '0' : a.flatFee, amount: str(amount) });
  }
  return out;
}

/** Prices a period split into plan segments. Pure; see the module comment for the rules. */
export function priceSegments(input: SegmentedPricingInput): SegmentedPrice {
  const { segments, periodDays, periodSeconds } = input;
  if (segments.length === 0)
    throw new PricingError('INVALID_PERIOD', 'no segment to price', [
      { field: 'segments', code: 'INVALID_PERIOD', message: 'at least one segment' },
    ]);
  const currency = segments[0].plan.currency;
  for (const [i, s] of segments.entries()) {
    const bad =
      s.plan.currency !== currency ||
      !(s.startDay >= 0 && s.startDay <= s.endDay && s.endDay <= periodDays) ||
      !(s.startSecond >= 0 && s.startSecond <= s.endSecond && s.endSecond <= periodSeconds) ||
      (i > 0 && (segments[i - 1].endDay !== s.startDay || segments[i - 1].endSecond !== s.startSecond));
    if (bad)
      throw new PricingError(
        'INVALID_PERIOD',
        `segment ${i} does not follow the previous one in one currency`,
        [
          {
            field: `segments[${i}]`,
            code: 'INVALID_PERIOD',
            message: 'segments must be consecutive, inside the period, in one currency',
          },
        ],
      );
  }
  const exponent = minorUnitExponent(currency);
  const lines: SegmentLine[] = [];
  const before: Record<string, Dec> = {};
  let total = ZERO;
  segments.forEach((seg, k) => {
    const bySecond = seg.plan.proration === 'second';
    const [a, b, L] = bySecond
      ? [seg.startSecond, seg.endSecond, periodSeconds]
      : [seg.startDay, seg.endDay, periodDays];
    let segmentTotal = ZERO;
    for (const charge of seg.plan.charges) {
      let line: SegmentLine;
      if (charge.kind === 'flat') {
        const exact = dec(charge.amount).times(minorFactor(exponent));
        const minor = share(exact, b, L).minus(share(exact, a, L));
        line = {
          chargeId: charge.id,
          name: charge.name,
          kind: 'flat',
          quantity: '1',
          billableQuantity: '1',
          ...(b - a === L ? {} : { proration: { activeDays: b - a, daysInPeriod: L } }),
          amount: str(divideRoundHalfEven(dec(charge.amount).times(b - a), new D(L), 12).value),
          amountMinor: str(minor),
          plan: seg.plan.id,
          segment: k,
        };
      } else {
        const q = dec(seg.usage[charge.meter] ?? '0');
        const prev = seg.plan.segmentTiers === 'carry_over' ? (before[charge.meter] ?? ZERO) : ZERO;
        line = { ...priceMeteredAfter(seg.plan, charge, str(prev), str(q)), plan: seg.plan.id, segment: k };
      }
      segmentTotal = segmentTotal.plus(line.amountMinor);
      lines.push(line);
    }
    for (const charge of seg.plan.charges)
      if (charge.kind !== 'flat')
        before[charge.meter] = (before[charge.meter] ?? ZERO).plus(dec(seg.usage[charge.meter] ?? '0'));
    let trueUp = ZERO;
    if (seg.plan.minimumCommitment !== undefined) {
      const m = dec(seg.plan.minimumCommitment).times(minorFactor(exponent));
      trueUp = max(
        ZERO,
        share(m, b, L)
          .minus(share(m, a, L))
          .minus(segmentTotal),
      );
      if (trueUp.gt(0))
        lines.push(
          planLine(
            MINIMUM_TRUE_UP_ID,
            'Minimum commitment true-up',
            'minimum_true_up',
            trueUp,
            exponent,
            seg.plan.id,
            k,
          ),
        );
    }
    if (seg.plan.maximum !== undefined) {
      const m = dec(seg.plan.maximum).times(minorFactor(exponent));
      const cut = min(
        ZERO,
        share(m, b, L)
          .minus(share(m, a, L))
          .minus(segmentTotal.plus(trueUp)),
      );
      if (cut.lt(0))
        lines.push(
          planLine(
            MAXIMUM_ADJUSTMENT_ID,
            'Maximum adjustment',
            'maximum_adjustment',
            cut,
            exponent,
            seg.plan.id,
            k,
          ),
        );
      segmentTotal = segmentTotal.plus(cut);
    }
    total = total.plus(segmentTotal).plus(trueUp);
  });
  return { currency, lines, totalMinor: str(total) };
}

/**
 * One metered charge of `plan` for `quantity` units that come after `before` units of the same series
 * in the period (tiers and free units carried over): `price(before + quantity) − price(before)`, the
 * minor amount being the difference of the two rounded amounts (so consecutive parts never drift).
 * With `before` zero it is the charge priced on its own.
 */
export function priceMeteredAfter(
  plan: Plan,
  charge: Exclude<Charge, { kind: 'flat' }>,
  before: string,
  quantity: string,
): InvoiceLineDraft & { carriedOver?: string } {
  const exponent = minorUnitExponent(plan.currency);
  const prev = dec(before);
  const q = dec(quantity);
  const price = (units: Dec) =>
    priceUsage({
      plan: onePlan(plan, charge),
      usage: { [charge.meter]: str(units) },
      period: { daysInPeriod: 1, activeDays: 1 },
    }).lines[0];
  const after = price(prev.plus(q));
  if (prev.isZero()) return after;
  const was = price(prev);
  return {
    ...after,
    quantity: str(q),
    billableQuantity: str(dec(after.billableQuantity).minus(was.billableQuantity)),
    ...(after.tiers ? { tiers: diffTiers(after.tiers, was.tiers) } : {}),
    amount: str(dec(after.amount).minus(was.amount)),
    amountMinor: str(
      roundToMinor(dec(after.amount), exponent).minus(roundToMinor(dec(was.amount), exponent)),
    ),
    carriedOver: str(prev),
  };
}

function planLine(
  chargeId: string,
  name: string,
  kind: 'minimum_true_up' | 'maximum_adjustment',
  minor: Dec,
  exponent: number,
  plan: string,
  segment: number,
): SegmentLine {
  return {
    chargeId,
    name,
    kind,
    quantity: '1',
    billableQuantity: '1',
    amount: str(minor.times(new D(10).pow(-exponent))),
    amountMinor: str(minor),
    plan,
    segment,
  };
}

/**
 * Credit for the unused part of a fee paid in advance, when the plan changes before the term ends:
 * `round(paid × unused / term)` (half-even, from the exact fraction). Tally books it as a credit grant
 * (`source: "proration"`) that later invoices draw, so a switch never produces a negative invoice.
 */
export function unusedPartCredit(paidMinor: string, termLength: number, unusedLength: number): string {
  if (!(termLength > 0 && unusedLength >= 0 && unusedLength <= termLength))
    throw new PricingError('INVALID_PERIOD', 'unused part must lie within the term', [
      { field: 'unusedLength', code: 'INVALID_PERIOD', message: 'must be in [0, termLength]' },
    ]);
  return str(share(dec(paidMinor), unusedLength, termLength));
}
