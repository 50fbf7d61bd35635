import { eventPartition } from './partitions';
import { natsNames } from './names';

describe('eventPartition', () => {
  it('is stable: the same customer always lands in the same partition', () => {
    // Pinned values: a change here moves every customer to another partition (and shard).
    expect([eventPartition('acme', 'c1', 8), eventPartition('acme', 'c2', 8), eventPartition('globex', 'c1', 8)]).toEqual([1, 0, 6]);
    expect(eventPartition('acme', 'c1', 1024)).toBe(81);
    expect(eventPartition('acme', 'c1', 1)).toBe(0);
  });

  it('separates tenant from customer (no ambiguity between "ab"+"c" and "a"+"bc")', () => {
    const hits = new Set<number>();
    for (let i = 0; i < 64; i++) hits.add(eventPartition('ab', `c${i}`, 1 << 30) - eventPartition('a', `bc${i}`, 1 << 30));
    expect(hits.has(0)).toBe(false);
  });

  it('spreads customers evenly', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8_000; i++) counts[eventPartition('acme', `customer-${i}`, 8)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    for (const c of counts) expect(c).toBeLessThan(1_200);
  });
});

describe('partition subjects', () => {
  const names = natsNames('tally');
  it('names the tenant in both subject forms', () => {
    expect(names.eventsPartitionSubject('acme', 3)).toBe('tally.events.acme.p3');
    expect(names.tenantOfEventsSubject('tally.events.acme.p3')).toBe('acme');
    expect(names.tenantOfEventsSubject('tally.events.acme')).toBe('acme');
    expect(names.tenantOfEventsSubject('tally.events.acme.x3')).toBeUndefined();
    expect(names.tenantOfEventsSubject('tally.events.acme.p3.x')).toBeUndefined();
  });
  it('lets partition 0 drain the unpartitioned subjects, and no two partitions overlap', () => {
    expect(names.eventsPartitionFilters(0, 8)).toEqual(['tally.events.*.p0', 'tally.events.*']);
    expect(names.eventsPartitionFilters(5, 8)).toEqual(['tally.events.*.p5']);
  });
  it('reads the whole stream with one filter when there is one partition', () => {
    expect(names.eventsPartitionFilters(0, 1)).toEqual(['tally.events.>']);
  });
});
