/**
 * Equitable sampling, as Cloudflare Analytics Engine does it: every index gets its own budget of
 * stored rows per time window, so one customer sending a million points a second cannot push a
 * customer sending a hundred a day out of the data. Indexes within budget are stored exactly
 * (`_sample_interval` 1); a louder index is sampled, each kept row standing for `_sample_interval`
 * points, so `sum(_sample_interval)` stays an unbiased estimate of the true count.
 *
 * Only for datasets declared as analytics. A billing meter must never be sampled: it is an exact
 * count by contract, and its events take the events path, not this one.
 */

/** The subset of a data point the sampler reads. */
export interface SampledPoint {
  index1: string;
  /** Points this one already stands for (1 for a raw point). */
  sampleInterval: number;
}

export interface EquitableSamplerOptions {
  /** Rows stored per index and window before sampling starts (and about what is kept once it has). */
  budgetPerIndexPerWindow: number;
  windowMs: number;
  /** Uniform in [0, 1); `Math.random` by default, a seeded generator (`seededRandom`) in tests. */
  random?: () => number;
}

interface IndexState {
  window: number;
  /** Points seen in `window`. */
  seen: number;
  /** Points seen in the window before `window` (0 when that window saw none). */
  previous: number;
}

/** The projection of the current window's rate never extrapolates from less than this part of it. */
const MIN_WINDOW_FRACTION = 1 / 16;
const MAX_INTERVAL = 2 ** 30;

/** The power of two at or above `x` (capped): a few doublings, cheaper than log2 on the per-point path. */
function nextPowerOfTwo(x: number): number {
  let k = 1;
  while (k < x && k < MAX_INTERVAL) k *= 2;
  return k;
}

/**
 * Per-index, per-window sampler with power-of-two intervals.
 *
 * For each point the interval `k` is chosen from what was seen before it (never from the coin it is
 * about to flip), then the point is kept with probability 1/k and weighted k. Whatever rule picks k,
 * each point's expected weight is exactly its own count: the estimate is unbiased, and the rule only
 * decides the variance and how many rows are stored. The rule here:
 *
 * - an index that was within budget in the previous window (or is new) keeps its first `budget`
 *   points of the window exactly (k = 1): small indexes are never sampled;
 * - beyond that, and from the first point for an index that was over budget in the previous window,
 *   k = the power of two at or above `expected / budget`, where `expected` is the larger of the
 *   previous window's count and the current window's count projected to the window's end. A steady
 *   loud index so keeps between budget/2 and budget rows per window (2 x budget in the window where
 *   it first turns loud), and a sudden burst is caught within the window rather than a window late.
 *
 * The bound for a burst: n points arriving at once inside one window are projected from the window's
 * elapsed part, which lags the count, so point s is kept at about 1/k >= budget x fraction / s. The
 * window's rows are then at most budget x (1 + ln(n / budget)) (2,803 for 50,000 against 500), not
 * 2 x budget: the price of an interval small enough to keep the estimate within a few intervals.
 * Bounding rows harder means larger intervals late in the burst, and a worse estimate.
 *
 * Power-of-two steps keep rows of one index comparable and `_sample_interval` an integer. State is in
 * memory and per process: with several gateway replicas, each samples its own share against its own budget.
 */
export class EquitableSampler {
  private readonly budget: number;
  private readonly windowMs: number;
  private readonly random: () => number;
  private readonly states = new Map<string, IndexState>();
  private prunedWindow = -Infinity;

  constructor(options: EquitableSamplerOptions) {
    if (!Number.isInteger(options.budgetPerIndexPerWindow) || options.budgetPerIndexPerWindow < 1) {
      throw new RangeError('budgetPerIndexPerWindow must be a positive integer');
    }
    if (!Number.isFinite(options.windowMs) || options.windowMs <= 0) {
      throw new RangeError('windowMs must be a positive number');
    }
    this.budget = options.budgetPerIndexPerWindow;
    this.windowMs = options.windowMs;
    this.random = options.random ?? Math.random;
  }

  /**
   * The points to store, each with its `sampleInterval` multiplied by the interval it was kept at;
   * the others are dropped. `nowMs` is the receipt time (windows follow arrival, not the points'
   * own timestamps, which a client controls). `scope` separates the indexes of different tenants and
   * datasets that share one sampler (e.g. `${tenant}/${dataset}`).
   */
  sample<T extends SampledPoint>(points: readonly T[], nowMs: number, scope = ''): T[] {
    const window = Math.floor(nowMs / this.windowMs);
    const fraction = Math.max(MIN_WINDOW_FRACTION, (nowMs - window * this.windowMs) / this.windowMs);
    this.prune(window);
    const kept: T[] = [];
    let lastIndex: string | undefined;
    let state: IndexState | undefined;
    for (const point of points) {
      // Batches usually repeat one index: look its state up once per run, not once per point.
      if (state === undefined || point.index1 !== lastIndex) {
        lastIndex = point.index1;
        state = this.state(`${scope}\u0000${point.index1}`, window);
      }
      state.seen += 1;
      const interval = this.interval(state, fraction);
      if (interval === 1) {
        kept.push(point);
      } else if (this.random() * interval < 1) {
        kept.push({ ...point, sampleInterval: point.sampleInterval * interval });
      }
    }
    return kept;
  }

  private interval(state: IndexState, fraction: number): number {
    // An index not known to be loud keeps its first `budget` points of the window exactly.
    if (state.previous <= this.budget && state.seen <= this.budget) return 1;
    const projected = state.seen / fraction;
    const expected = state.previous > projected ? state.previous : projected;
    return expected <= this.budget ? 1 : nextPowerOfTwo(expected / this.budget);
  }

  /** Indexes with state (for metrics and tests). */
  get trackedIndexes(): number {
    return this.states.size;
  }

  private state(key: string, window: number): IndexState {
    let state = this.states.get(key);
    if (!state) {
      state = { window, seen: 0, previous: 0 };
      this.states.set(key, state);
    } else if (state.window !== window) {
      state.previous = state.window === window - 1 ? state.seen : 0;
      state.window = window;
      state.seen = 0;
    }
    return state;
  }

  /** Forgets indexes that sent nothing in the last two windows, once per window. */
  private prune(window: number): void {
    if (window <= this.prunedWindow) return;
    this.prunedWindow = window;
    for (const [key, state] of this.states) {
      if (state.window < window - 1) this.states.delete(key);
    }
  }
}

/**
 * A small seeded PRNG (xorshift32), uniform in [0, 1): deterministic sampling in tests and
 * simulations. Not for anything that must be unpredictable.
 */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9; // xorshift never leaves 0
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
