import { randomInt } from 'node:crypto';
import { EquitableSampler, type SampledPoint } from '@tally/analytics-engine';

export interface SamplingSettings {
  budgetPerIndexPerWindow: number;
  windowMs: number;
}

/** The golden ratio's fractional part: the step that spreads a Weyl sequence most evenly. */
const GOLDEN = 0.6180339887498949;

/** A uniformly random start in [0, 1). */
export const randomStart = (): number => randomInt(2 ** 47) / 2 ** 47;

/**
 * Uniform numbers in [0, 1) for the sampler's coin: the Weyl sequence `frac(start + n * 0.618...)`.
 * With a uniformly random start each value on its own is uniform, so every point is still kept with
 * probability exactly 1/k and `sum(_sample_interval)` stays unbiased. But consecutive values are
 * spread evenly instead of independently, so of n points at interval k about n/k are kept, give or
 * take one, where independent coins give or take sqrt(n/k): a loud index's estimate is off by a few
 * intervals instead of sqrt(n * k) points (dataset-samplers.spec.ts measures both). Any periodic
 * pattern in the data (every other point an error, say) is sampled evenly too: the values at n, n + p,
 * n + 2p... form a Weyl sequence of their own, with the irrational step p * 0.618....
 */
export function weylRandom(start = randomStart()): () => number {
  let x = start;
  return () => {
    x += GOLDEN;
    if (x >= 1) x -= 1;
    return x;
  };
}

interface IndexCoin {
  x: number;
  window: number;
}

/**
 * One equitable sampler per analytics dataset, in this process's memory, with one Weyl coin per
 * index (so that loud indexes interleaved in one batch each keep an evenly spread sequence). A
 * changed declaration (budget or window) starts a fresh sampler.
 */
export class DatasetSamplers {
  private readonly samplers = new Map<
    string,
    { settings: SamplingSettings; sampler: EquitableSampler; coins: Map<string, IndexCoin>; pruned: number }
  >();
  /** The coin of the index being sampled (the sampler's `random` reads it). */
  private coin: IndexCoin = { x: 0, window: 0 };

  constructor(private readonly start: () => number = randomStart) {}

  sample<T extends SampledPoint>(
    tenant: string,
    dataset: string,
    settings: SamplingSettings,
    points: readonly T[],
    nowMs: number,
  ): T[] {
    const key = `${tenant}\u0000${dataset}`;
    let entry = this.samplers.get(key);
    if (
      !entry ||
      entry.settings.budgetPerIndexPerWindow !== settings.budgetPerIndexPerWindow ||
      entry.settings.windowMs !== settings.windowMs
    ) {
      const random = () => {
        const coin = this.coin;
        coin.x += GOLDEN;
        if (coin.x >= 1) coin.x -= 1;
        return coin.x;
      };
      const sampler = new EquitableSampler({ ...settings, random });
      entry = { settings: { ...settings }, sampler, coins: new Map(), pruned: 0 };
      this.samplers.set(key, entry);
    }
    const window = Math.floor(nowMs / settings.windowMs);
    if (window > entry.pruned) {
      // Coins of indexes that sent nothing for two windows go, as the sampler forgets their counts.
      for (const [index, coin] of entry.coins) if (coin.window < window - 1) entry.coins.delete(index);
      entry.pruned = window;
    }
    const kept: T[] = [];
    for (const [index, group] of groupByIndex(points)) {
      let coin = entry.coins.get(index);
      if (!coin) entry.coins.set(index, (coin = { x: this.start(), window }));
      coin.window = window;
      this.coin = coin;
      for (const point of entry.sampler.sample(group, nowMs)) kept.push(point);
    }
    return kept;
  }
}

/** Points grouped by index, in order of first appearance, each group in request order. */
function groupByIndex<T extends SampledPoint>(points: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const point of points) {
    const group = groups.get(point.index1);
    if (group) group.push(point);
    else groups.set(point.index1, [point]);
  }
  return groups;
}
