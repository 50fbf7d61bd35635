import { ratesBySlice, steadyRate, type StoredPoint } from './stored-series';

// Inserts of 30,000 events every 1.5 s, sampled every 0.25 s.
const points: StoredPoint[] = Array.from({ length: 41 }, (_, i) => ({
  at: i * 250,
  stored: 10_000 + 30_000 * Math.floor((i * 250 + 100) / 1_500),
}));

describe('stored series', () => {
  it('measures the steady rate from the first insert to the last, whatever the window edges', () => {
    expect(steadyRate(points)).toBeCloseTo(20_000, 0);
    expect(steadyRate(points.slice(3, 30))).toBeCloseTo(20_000, 0);
  });

  it('needs two inserts to say anything', () => {
    expect(steadyRate([{ at: 0, stored: 5 }, { at: 1_000, stored: 5 }])).toBeNaN();
    expect(steadyRate([{ at: 0, stored: 5 }, { at: 1_000, stored: 9 }])).toBeNaN();
  });

  it('slices the series', () => {
    expect(ratesBySlice(points, 5_000)).toEqual([18_000, 18_000]);
  });
});
