import { EquitableSampler, seededRandom, type SampledPoint } from './sampler';

interface P extends SampledPoint {
  n?: number;
}

const point = (index1: string): P => ({ index1, sampleInterval: 1 });
const isPowerOfTwo = (k: number): boolean => Number.isInteger(Math.log2(k));

describe('EquitableSampler on skewed traffic', () => {
  // One index 1,000 times louder than 50 others: 200,000 points a minute against 200, for 10 minutes.
  const WINDOW_MS = 60_000;
  const WINDOWS = 10;
  const BUDGET = 10_000;
  const BATCH = 250;
  const LOUD_PER_WINDOW = 200_000;
  const SMALL = 50;
  const SMALL_PER_WINDOW = 200;

  const sampler = new EquitableSampler({
    budgetPerIndexPerWindow: BUDGET,
    windowMs: WINDOW_MS,
    random: seededRandom(20230301),
  });
  const sums = new Map<string, number>();
  const rows = new Map<string, number>();
  const loudRowsPerWindow: number[] = [];
  const intervals = new Set<number>();

  beforeAll(() => {
    const loudBatch = Array.from({ length: BATCH }, () => point('loud'));
    const smallBatch = Array.from({ length: SMALL * SMALL_PER_WINDOW }, (_, i) =>
      point(`small_${i % SMALL}`),
    );
    const loudBatches = LOUD_PER_WINDOW / BATCH;
    for (let w = 0; w < WINDOWS; w++) {
      let loudRows = 0;
      const record = (kept: P[]): void => {
        for (const p of kept) {
          sums.set(p.index1, (sums.get(p.index1) ?? 0) + p.sampleInterval);
          rows.set(p.index1, (rows.get(p.index1) ?? 0) + 1);
          intervals.add(p.sampleInterval);
          if (p.index1 === 'loud') loudRows++;
        }
      };
      for (let b = 0; b < loudBatches; b++) {
        const now = w * WINDOW_MS + Math.floor(((b + 0.5) * WINDOW_MS) / loudBatches);
        record(sampler.sample(loudBatch, now, 'acme/api'));
        // the small indexes' points arrive spread over the window too
        if (b % (loudBatches / 40) === 0) {
          const slice = (b / (loudBatches / 40)) * BATCH;
          record(sampler.sample(smallBatch.slice(slice, slice + BATCH), now, 'acme/api'));
        }
      }
      loudRowsPerWindow.push(loudRows);
    }
  });

  it('keeps every small index exact', () => {
    for (let i = 0; i < SMALL; i++) {
      expect(sums.get(`small_${i}`)).toBe(SMALL_PER_WINDOW * WINDOWS);
      expect(rows.get(`small_${i}`)).toBe(SMALL_PER_WINDOW * WINDOWS);
    }
  });

  it('estimates the loud index within 1% with sum(_sample_interval)', () => {
    const truth = LOUD_PER_WINDOW * WINDOWS;
    const estimate = sums.get('loud') ?? 0;
    expect(Math.abs(estimate - truth) / truth).toBeLessThan(0.01);
  });

  it('stores a bounded number of rows for the loud index', () => {
    const stored = rows.get('loud') ?? 0;
    expect(stored).toBeLessThan(BUDGET * WINDOWS * 1.1);
    expect(stored).toBeLessThan((LOUD_PER_WINDOW * WINDOWS) / 20);
    // Spread evenly over the window: at most twice the budget in the window where it turns loud, at
    // most the budget after that (a burst inside one window keeps more: see the burst test below).
    expect(loudRowsPerWindow[0]).toBeLessThanOrEqual(2 * BUDGET);
    for (const n of loudRowsPerWindow.slice(1)) {
      expect(n).toBeGreaterThan(BUDGET / 2 - 500);
      expect(n).toBeLessThan(BUDGET + 500);
    }
  });

  it('uses power-of-two intervals', () => {
    for (const k of intervals) expect(isPowerOfTwo(k)).toBe(true);
    expect(Math.max(...intervals)).toBe(32); // 200,000 / 10,000 = 20, rounded up to a power of two
  });
});

describe('EquitableSampler', () => {
  it('is exact for an index within its budget, whatever its burst', () => {
    const sampler = new EquitableSampler({
      budgetPerIndexPerWindow: 100,
      windowMs: 1000,
      random: () => 0.999,
    });
    const burst = Array.from({ length: 100 }, () => point('a'));
    expect(sampler.sample(burst, 0)).toHaveLength(100);
    expect(sampler.sample(burst, 1000)).toHaveLength(100); // a new window, a new budget
  });

  it('stores at most budget x (1 + ln(n / budget)) rows for a burst of n points inside one window', () => {
    // The whole burst lands in one window, at any point of it: the case where the projection from
    // the window's elapsed part lags the count most. 50,000 points against a budget of 500 kept
    // 1,462 rows in one window of a CI run, beyond the 2 x budget once claimed here.
    const BUDGET = 500;
    const N = 50_000;
    const bound = BUDGET * (1 + Math.log(N / BUDGET));
    let worst = 0;
    for (const fraction of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999]) {
      for (let seed = 1; seed <= 5; seed++) {
        const sampler = new EquitableSampler({
          budgetPerIndexPerWindow: BUDGET,
          windowMs: 1000,
          random: seededRandom(seed),
        });
        let rows = 0;
        for (let sent = 0; sent < N; sent += 250) {
          const kept = sampler.sample(
            Array.from({ length: 250 }, () => point('loud')),
            7000 + fraction * 1000,
          );
          rows += kept.length;
        }
        worst = Math.max(worst, rows);
        expect(rows).toBeLessThanOrEqual(bound);
      }
    }
    expect(worst).toBeGreaterThan(2 * BUDGET); // the bound is the real one: 2 x budget is not
  });

  it('samples beyond the budget and keeps the estimate unbiased over many seeds', () => {
    const estimates: number[] = [];
    for (let seed = 1; seed <= 200; seed++) {
      const sampler = new EquitableSampler({
        budgetPerIndexPerWindow: 50,
        windowMs: 1000,
        random: seededRandom(seed),
      });
      let sum = 0;
      for (let t = 0; t < 1000; t += 10) {
        for (const p of sampler.sample(
          Array.from({ length: 10 }, () => point('x')),
          t,
        ))
          sum += p.sampleInterval;
      }
      estimates.push(sum);
    }
    const mean = estimates.reduce((a, b) => a + b, 0) / estimates.length;
    expect(Math.abs(mean - 1000) / 1000).toBeLessThan(0.02);
    expect(new Set(estimates).size).toBeGreaterThan(1); // it did sample
  });

  it('multiplies an interval the point already carries', () => {
    const sampler = new EquitableSampler({ budgetPerIndexPerWindow: 1, windowMs: 1000, random: () => 0 });
    const kept = sampler.sample(
      [
        { index1: 'a', sampleInterval: 3 },
        { index1: 'a', sampleInterval: 3 },
      ],
      999,
    );
    expect(kept[0].sampleInterval).toBe(3);
    expect(kept[1].sampleInterval % 3).toBe(0);
    expect(kept[1].sampleInterval).toBeGreaterThan(3);
    expect(isPowerOfTwo(kept[1].sampleInterval / 3)).toBe(true);
  });

  it('returns new objects for re-weighted points and leaves the input alone', () => {
    const sampler = new EquitableSampler({ budgetPerIndexPerWindow: 1, windowMs: 1000, random: () => 0 });
    const input = [point('a'), point('a')];
    const kept = sampler.sample(input, 999);
    expect(kept[0]).toBe(input[0]);
    expect(kept[1]).not.toBe(input[1]);
    expect(input[1].sampleInterval).toBe(1);
  });

  it('keeps the budgets of scopes (tenant/dataset) and indexes apart', () => {
    const sampler = new EquitableSampler({ budgetPerIndexPerWindow: 2, windowMs: 1000, random: () => 0.999 });
    const three = (index: string) => [point(index), point(index), point(index)];
    expect(sampler.sample(three('a'), 999, 't1')).toHaveLength(2);
    expect(sampler.sample(three('a'), 999, 't2')).toHaveLength(2);
    expect(sampler.sample(three('b'), 999, 't1')).toHaveLength(2);
  });

  it('samples an index that was loud in the previous window from its first point', () => {
    const sampler = new EquitableSampler({ budgetPerIndexPerWindow: 10, windowMs: 1000, random: () => 0.99 });
    sampler.sample(
      Array.from({ length: 100 }, () => point('a')),
      999,
    );
    expect(sampler.sample([point('a')], 1000)).toEqual([]); // interval 16, and the coin says no
    // two quiet windows later it is small again
    expect(sampler.sample([point('a')], 3000)).toHaveLength(1);
  });

  it('forgets indexes that went quiet', () => {
    const sampler = new EquitableSampler({ budgetPerIndexPerWindow: 10, windowMs: 1000 });
    sampler.sample([point('a'), point('b')], 0);
    sampler.sample([point('b')], 1000);
    expect(sampler.trackedIndexes).toBe(2);
    sampler.sample([point('c')], 2000);
    expect(sampler.trackedIndexes).toBe(2); // 'a' (last seen two windows ago) is gone
  });

  it('validates its options', () => {
    expect(() => new EquitableSampler({ budgetPerIndexPerWindow: 0, windowMs: 1000 })).toThrow(RangeError);
    expect(() => new EquitableSampler({ budgetPerIndexPerWindow: 1.5, windowMs: 1000 })).toThrow(RangeError);
    expect(() => new EquitableSampler({ budgetPerIndexPerWindow: 1, windowMs: 0 })).toThrow(RangeError);
  });
});

describe('seededRandom', () => {
  it('is deterministic and uniform enough', () => {
    const a = seededRandom(1);
    const b = seededRandom(1);
    const values = Array.from({ length: 10_000 }, () => a());
    expect(values.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
  });
});
