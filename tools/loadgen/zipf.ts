/**
 * Zipf-distributed ranks: rank k (1-based) is drawn with probability proportional to 1 / k^s. With
 * s = 1 over 1,000 customers the top customer sends about 13% of the events and the top 10 about
 * 39%, the long tail the rest: the skew of real usage, where a few big accounts dominate.
 *
 * The cumulative distribution is computed once; each draw is one uniform number and a binary search
 * (about 10 comparisons for 1,000 ranks), so sampling costs nothing next to building the request.
 */
export class ZipfSampler {
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    readonly exponent = 1,
    private readonly random: () => number = Math.random,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ZipfSampler: n must be a positive integer, got ${n}`);
    if (!(exponent >= 0)) throw new RangeError(`ZipfSampler: exponent must be >= 0, got ${exponent}`);
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let k = 1; k <= n; k++) total += 1 / Math.pow(k, exponent);
    let running = 0;
    for (let k = 1; k <= n; k++) {
      running += 1 / Math.pow(k, exponent) / total;
      this.cdf[k - 1] = running;
    }
    this.cdf[n - 1] = 1; // no rounding gap at the top
  }

  /** Probability of the 0-based rank `i`. */
  probability(i: number): number {
    return i === 0 ? this.cdf[0] : this.cdf[i] - this.cdf[i - 1];
  }

  /** A 0-based rank: 0 is the most frequent. */
  next(): number {
    const u = this.random();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** A small deterministic PRNG (mulberry32), so a run can be repeated with the same customer sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
