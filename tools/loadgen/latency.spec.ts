import { LatencyRecorder, round } from './latency';

describe('LatencyRecorder', () => {
  it('gives exact nearest-rank percentiles, beyond its initial capacity', () => {
    const r = new LatencyRecorder();
    for (let v = 5_000; v >= 1; v--) r.record(v);
    expect(r.count).toBe(5_000);
    expect(r.summary()).toEqual({ count: 5_000, p50Ms: 2_500, p90Ms: 4_500, p99Ms: 4_950, p999Ms: 4_995, maxMs: 5_000, meanMs: 2_500.5 });
  });

  it('answers NaN without samples', () => {
    expect(new LatencyRecorder().summary().p99Ms).toBeNaN();
  });

  it('rounds to two decimals', () => {
    expect(round(1.23456)).toBe(1.23);
    expect(round(1234.5678, 0)).toBe(1235);
  });
});
