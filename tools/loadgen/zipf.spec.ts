import { seededRandom, ZipfSampler } from './zipf';

describe('ZipfSampler', () => {
  it('gives rank k a probability proportional to 1/k^s', () => {
    const z = new ZipfSampler(1_000, 1);
    const harmonic = Array.from({ length: 1_000 }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b, 0);
    expect(z.probability(0)).toBeCloseTo(1 / harmonic, 12);
    expect(z.probability(9)).toBeCloseTo(1 / 10 / harmonic, 12);
    let total = 0;
    for (let i = 0; i < 1_000; i++) total += z.probability(i);
    expect(total).toBeCloseTo(1, 12);
  });

  it('draws a skewed sample: the top customer ~13%, the top ten ~39% of 1,000', () => {
    const z = new ZipfSampler(1_000, 1, seededRandom(42));
    const counts = new Array<number>(1_000).fill(0);
    const draws = 200_000;
    for (let i = 0; i < draws; i++) counts[z.next()]++;
    expect(counts[0] / draws).toBeCloseTo(z.probability(0), 2);
    expect(counts.slice(0, 10).reduce((a, b) => a + b, 0) / draws).toBeCloseTo(0.39, 1);
    expect(counts.every((c, i) => i === 0 || c <= counts[0])).toBe(true);
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(900); // the long tail is there too
  });

  it('is uniform with exponent 0 and stays in range at the edges of [0, 1)', () => {
    expect(new ZipfSampler(4, 0).probability(3)).toBeCloseTo(0.25, 12);
    expect(new ZipfSampler(10, 1, () => 0).next()).toBe(0);
    expect(new ZipfSampler(10, 1, () => 0.999_999_999_9).next()).toBe(9);
    expect(() => new ZipfSampler(0)).toThrow(RangeError);
    expect(() => new ZipfSampler(10, -1)).toThrow(RangeError);
  });

  it('repeats a sequence from the same seed', () => {
    const a = new ZipfSampler(100, 1, seededRandom(7));
    const b = new ZipfSampler(100, 1, seededRandom(7));
    expect(Array.from({ length: 50 }, () => a.next())).toEqual(Array.from({ length: 50 }, () => b.next()));
  });
});
