/**
 * Unit grants: credit in units of a meter (1,000 free API calls) rather than an amount of money.
 *
 * A unit grant is drawn by the usage of its meter **before** that usage is priced: the units it pays
 * for are removed from the quantity, and what is left goes through the plan's tiers from the first
 * tier, exactly as the plan's own `freeUnits` do. The customer does not skip the first (dearest) tiers;
 * a grant of 1,000 calls on 3,500 calls prices 2,500 calls from tier 1. This is what Orb's usage
 * discounts do ("reduce the billable quantity before applying the pricing function",
 * docs.withorb.com/product-catalog/adjustments) and what Lago's `free_units` do on package charges.
 * The plan's free units are used first (they cost nothing anyway); the grant pays for the units after
 * them.
 *
 * Usage draws grants day by day, in the order the usage happened: each day's units (after the plan's
 * free units, which the earliest usage of the period takes) draw from the grants usable on that day
 * (`effective` ≤ day < `expires`), lowest `priority` first, then the earliest expiry (none last), then
 * the earliest effective date, then the grant id. A grant written on the 15th pays for usage from the
 * 15th; one expiring on the 16th pays for nothing after the 15th, and its rest expires.
 *
 * Like the money ledger (`credits.ts`), nothing but grants and draws is stored: what expired follows
 * from the dates, so the balance on any date is the same whoever replays it and whenever. Quantities
 * are exact decimals (a grant of `0.5` GB-hours is fine), never JavaScript floats.
 */
import { type Dec, ZERO, dec, max, min, parseArgument, str } from './decimal';
import { compareDrawOrder } from './credits';
import { PricingError } from './errors';
import { isLocalDate } from './dates';
import type { DecimalString, InvoiceLineDraft, Plan, PriceResult, PricingInput } from './types';
import { priceUsage } from './price';

export interface UnitGrant {
  id: string;
  /** The meter whose units it pays for (a meter key; a `meter:profile` series draws the grant of its meter). */
  meter: string;
  /** Units granted, a non-negative decimal. */
  units: DecimalString;
  /** First local date it is usable. */
  effective: string;
  /** First local date it is no longer usable (exclusive); never when absent. */
  expires?: string;
  /** Lower is drawn first. Default 10. */
  priority?: number;
  /**
   * The date of the ledger's `void` of this grant (the grant itself is never edited): from that day
   * on it pays for nothing, and what was left is voided, not expired.
   */
  voidedOn?: string;
}

/** Units of a grant that an invoice used: written with the invoice, its id derived from it. */
export interface UnitDraw {
  id: string;
  grantId: string;
  meter: string;
  /** The first day of usage it paid for (a day the grant was usable). */
  date: string;
  units: DecimalString;
  invoiceId: string;
}

export interface UnitGrantBucket {
  grantId: string;
  meter: string;
  priority: number;
  effective: string;
  expires?: string;
  grantedUnits: string;
  remainingUnits: string;
}

export interface UnitGrantBalance {
  asOf: string;
  meter: string;
  /** Units still usable on `asOf`. */
  balanceUnits: string;
  grantedUnits: string;
  drawnUnits: string;
  expiredUnits: string;
  voidedUnits: string;
  /** Grants usable on `asOf` with units left, in draw order. */
  buckets: UnitGrantBucket[];
}

export const DEFAULT_UNIT_GRANT_PRIORITY = 10;

/** The meter a usage series key (`meter` or `meter:profile`) belongs to. */
export function meterOfSeries(series: string): string {
  const i = series.indexOf(':');
  return i < 0 ? series : series.slice(0, i);
}

function argError(message: string, field: string): PricingError {
  return new PricingError('INVALID_ARGUMENT', message, [{ field, code: 'REQUIRED', message }]);
}

/** A non-negative decimal argument (`parseArgument` refuses what is not a decimal). */
function units(value: string, field: string): Dec {
  const d = parseArgument(value, field);
  if (d.isNeg()) throw argError(`${field} must not be negative`, field);
  return d;
}

function order(a: UnitGrant, b: UnitGrant): number {
  return compareDrawOrder(
    { ...a, priority: a.priority ?? DEFAULT_UNIT_GRANT_PRIORITY },
    { ...b, priority: b.priority ?? DEFAULT_UNIT_GRANT_PRIORITY },
  );
}

/** The first day a grant pays for nothing: its expiry or its void, whichever comes first. */
function endOf(g: UnitGrant): string | undefined {
  if (g.voidedOn === undefined) return g.expires;
  return g.expires === undefined || g.voidedOn < g.expires ? g.voidedOn : g.expires;
}

const usableOn = (g: UnitGrant, day: string) => {
  const end = endOf(g);
  return g.effective <= day && (end === undefined || day < end);
};

/** What is left of each grant of `meter` after `draws` (dated up to `asOf` when given). */
function remaining(
  grants: readonly UnitGrant[],
  draws: readonly UnitDraw[],
  meter: string,
  asOf?: string,
): Map<string, { grant: UnitGrant; left: Dec; drawn: Dec }> {
  const out = new Map<string, { grant: UnitGrant; left: Dec; drawn: Dec }>();
  for (const g of grants) {
    if (g.meter !== meter) continue;
    if (out.has(g.id)) throw argError(`unit grant '${g.id}' is in the ledger twice`, 'grants');
    const granted = units(g.units, `grants.${g.id}.units`);
    out.set(g.id, { grant: g, left: granted, drawn: ZERO });
  }
  for (const d of draws) {
    const b = out.get(d.grantId);
    if (!b || (asOf !== undefined && d.date > asOf)) continue;
    const take = units(d.units, `draws.${d.id}.units`);
    if (take.gt(b.left))
      throw argError(
        `draw '${d.id}' takes ${str(take)} units of '${d.grantId}', which has ${str(b.left)}`,
        'draws',
      );
    b.left = b.left.minus(take);
    b.drawn = b.drawn.plus(take);
  }
  return out;
}

/**
 * The unit balance of `meter` on `asOf` (after everything dated `asOf`): granted − drawn − expired −
 * voided, counting only grants effective by then.
 */
export function unitGrantBalance(
  grants: readonly UnitGrant[],
  draws: readonly UnitDraw[],
  meter: string,
  asOf: string,
): UnitGrantBalance {
  if (!isLocalDate(asOf)) throw argError(`asOf '${asOf}' is not a date YYYY-MM-DD`, 'asOf');
  let granted = ZERO;
  let drawn = ZERO;
  let expired = ZERO;
  let voided = ZERO;
  const usable: UnitGrant[] = [];
  const left = remaining(grants, draws, meter, asOf);
  for (const b of left.values()) {
    if (b.grant.effective > asOf) continue;
    granted = granted.plus(b.grant.units);
    drawn = drawn.plus(b.drawn);
    const end = endOf(b.grant);
    if (end !== undefined && end <= asOf) {
      if (end === b.grant.voidedOn) voided = voided.plus(b.left);
      else expired = expired.plus(b.left);
    } else if (b.left.gt(0)) usable.push(b.grant);
  }
  usable.sort(order);
  return {
    asOf,
    meter,
    balanceUnits: str(granted.minus(drawn).minus(expired).minus(voided)),
    grantedUnits: str(granted),
    drawnUnits: str(drawn),
    expiredUnits: str(expired),
    voidedUnits: str(voided),
    buckets: usable.map((g) => ({
      grantId: g.id,
      meter: g.meter,
      priority: g.priority ?? DEFAULT_UNIT_GRANT_PRIORITY,
      effective: g.effective,
      ...(g.expires !== undefined ? { expires: g.expires } : {}),
      grantedUnits: str(dec(g.units)),
      remainingUnits: str((left.get(g.id) as { left: Dec }).left),
    })),
  };
}

export interface UnitDrawRequest {
  grants: readonly UnitGrant[];
  /** Draws of earlier invoices. */
  draws: readonly UnitDraw[];
  meter: string;
  /** The period's usage of the meter by local day, any order. */
  days: ReadonlyArray<{ day: string; value: DecimalString }>;
  /** The plan's free units of the meter: the period's first units, taken before any grant. */
  includedUnits?: DecimalString;
  invoiceId: string;
}

/**
 * The units of `meter` that grants pay for in a period, and the draws to record (one per grant, id
 * `<invoice>/unit/<grant>`, dated the first day it paid for, so a retried write writes the same draws).
 */
export function drawUnitGrants(req: UnitDrawRequest): { consumedUnits: string; draws: UnitDraw[] } {
  const left = remaining(req.grants, req.draws, req.meter);
  const grants = [...left.values()].map((b) => b.grant).sort(order);
  let included = units(req.includedUnits ?? '0', 'includedUnits');
  const taken = new Map<string, { units: Dec; date: string }>();
  let consumed = ZERO;
  const days = [...req.days].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  for (const { day, value } of days) {
    let want = units(value, `days.${day}`);
    const free = min(want, included);
    included = included.minus(free);
    want = want.minus(free);
    for (const g of grants) {
      if (!want.gt(0)) break;
      const b = left.get(g.id) as { left: Dec };
      if (!usableOn(g, day) || !b.left.gt(0)) continue;
      const take = min(want, b.left);
      b.left = b.left.minus(take);
      want = want.minus(take);
      consumed = consumed.plus(take);
      const seen = taken.get(g.id);
      taken.set(g.id, { units: (seen?.units ?? ZERO).plus(take), date: seen?.date ?? day });
    }
  }
  const draws = grants.flatMap((g) => {
    const t = taken.get(g.id);
    if (!t) return [];
    return [
      {
        id: `${req.invoiceId}/unit/${g.id}`,
        grantId: g.id,
        meter: req.meter,
        date: t.date,
        units: str(t.units),
        invoiceId: req.invoiceId,
      },
    ];
  });
  return { consumedUnits: str(consumed), draws };
}

/**
 * The plan with the units grants paid for (by usage key, a charge's `meter`) added to the free units of
 * every charge on that key: what `priceUsage` then bills is the rest, through the tiers from the first.
 */
export function planWithGrantedUnits(plan: Plan, granted: Readonly<Record<string, DecimalString>>): Plan {
  return {
    ...plan,
    charges: plan.charges.map((c) => {
      if (c.kind === 'flat') return c;
      const g = granted[c.meter];
      if (g === undefined || dec(g).isZero()) return c;
      return { ...c, freeUnits: str(dec(c.freeUnits ?? '0').plus(units(g, `granted.${c.meter}`))) };
    }),
  };
}

/**
 * Names on each line of a charge the units of its quantity that grants paid for (`grantedUnits`): at
 * most what the charge's own free units left. `plan` is the plan without the granted units.
 */
export function showGrantedUnits<L extends InvoiceLineDraft>(
  lines: readonly L[],
  plan: Plan,
  granted: Readonly<Record<string, DecimalString>>,
): L[] {
  return lines.map((l) => {
    const g = l.meter === undefined ? undefined : granted[l.meter];
    if (g === undefined || dec(g).isZero()) return l;
    const charge = plan.charges.find((c) => c.id === l.chargeId);
    const free = charge && charge.kind !== 'flat' && charge.freeUnits ? dec(charge.freeUnits) : ZERO;
    const paid = min(dec(g), max(ZERO, dec(l.quantity).minus(free)));
    return paid.gt(0) ? { ...l, grantedUnits: str(paid) } : l;
  });
}

/** `priceUsage` with the units that grants paid for (by usage key) taken off first, shown on the lines. */
export function priceUsageWithUnitGrants(
  input: PricingInput,
  granted: Readonly<Record<string, DecimalString>>,
): PriceResult {
  const priced = priceUsage({ ...input, plan: planWithGrantedUnits(input.plan, granted) });
  return { ...priced, lines: showGrantedUnits(priced.lines, input.plan, granted) };
}
