import type { InvoiceLine } from '@tally/billing-contracts';
import { lineIdOf } from './finance';

/** One charge of a subscription as two pricings of a period have it: either side may lack it. */
export interface LinePair {
  /** The line that names the charge: `after`'s, or `before`'s when only it has the charge. */
  line: InvoiceLine;
  before?: InvoiceLine;
  after?: InvoiceLine;
}

/**
 * The lines of two pricings of one period matched by subscription and charge id, in `before`'s order
 * then the charges only `after` has: what an adjustment and a simulation both compare.
 */
export function pairLinesByCharge(before: readonly InvoiceLine[], after: readonly InvoiceLine[]): LinePair[] {
  const beforeByKey = new Map(before.map((l) => [lineIdOf(l), l]));
  const afterByKey = new Map(after.map((l) => [lineIdOf(l), l]));
  const pairs: LinePair[] = [];
  for (const k of new Set([...beforeByKey.keys(), ...afterByKey.keys()])) {
    const b = beforeByKey.get(k);
    const a = afterByKey.get(k);
    pairs.push({ line: (a ?? b) as InvoiceLine, before: b, after: a });
  }
  return pairs;
}
