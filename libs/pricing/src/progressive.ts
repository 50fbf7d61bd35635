import { toMinorUnits } from './currency';
import type { ProgressiveBilling } from './types';

/** How far the accrued amount of a period reached on a plan's progressive-billing thresholds. */
export interface ThresholdsCrossed {
  /**
   * How many thresholds are at or below the accrued amount ("1" = the first; "0": none yet), an integer
   * string: a small repeat step on a large amount counts past 2^53.
   */
  count: string;
  /** The highest of them, in minor units ("0" when none). */
  thresholdMinor: string;
  /** The next threshold above the accrued amount, in minor units; undefined when there is none. */
  nextMinor?: string;
}

/**
 * The thresholds of a progressive-billing setting that an accrued amount (integer minor units) has
 * reached: the listed ones first, then every `repeatEvery` above the last of them. Exact (integers in
 * minor units); the setting was validated with the plan (`validatePlan`).
 */
export function progressiveThresholds(
  setting: ProgressiveBilling,
  accruedMinor: string,
  currency: string,
): ThresholdsCrossed {
  const accrued = BigInt(accruedMinor);
  const listed = (setting.thresholds ?? []).map((t) => BigInt(toMinorUnits(t, currency)));
  let count = 0n;
  let highest = 0n;
  for (const t of listed) {
    if (t > accrued)
      return { count: count.toString(), thresholdMinor: highest.toString(), nextMinor: t.toString() };
    count++;
    highest = t;
  }
  if (setting.repeatEvery === undefined)
    return { count: count.toString(), thresholdMinor: highest.toString() };
  const step = BigInt(toMinorUnits(setting.repeatEvery, currency));
  const base = highest;
  const repeats = accrued < base ? 0n : (accrued - base) / step;
  const reached = base + repeats * step;
  return {
    count: (count + repeats).toString(),
    thresholdMinor: reached.toString(),
    nextMinor: (reached + step).toString(),
  };
}
