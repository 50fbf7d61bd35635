import { normalizeBatch } from '@tally/event-schema';
import { BatchFactory, decimalFromMilli, PROBE_EVENT_TYPE } from './event-batches';
import { seededRandom } from './zipf';

const NOW = Date.UTC(2026, 0, 15, 12);

describe('BatchFactory', () => {
  it('builds bodies the gateway accepts, with the batch size, fresh ids and the quantity sum it reports', () => {
    const factory = new BatchFactory({ batchSize: 100, random: seededRandom(1), now: () => NOW });
    const ids = new Set<string>();
    for (let b = 0; b < 20; b++) {
      const batch = factory.next();
      const { events } = normalizeBatch(JSON.parse(batch.body), 'auto', { nowMs: NOW });
      expect(events).toHaveLength(100);
      expect(batch.events).toBe(100);
      let milli = 0;
      for (const e of events) {
        ids.add(e.id);
        expect(e.ts).toBe(NOW);
        expect(e.customer).toMatch(/^cus_\d{3}$/);
        expect(Object.keys(e.properties).sort()).toEqual(['model', 'region']);
        expect(e.source).toBe('loadgen');
        milli += Math.round(Number(e.quantity) * 1000);
      }
      expect(milli).toBe(batch.quantityMilli);
    }
    expect(ids.size).toBe(2_000);
  });

  it('spreads events over the customers with a Zipf skew', () => {
    const factory = new BatchFactory({ batchSize: 1_000, random: seededRandom(3) });
    const counts = new Map<string, number>();
    for (let b = 0; b < 50; b++) {
      for (const e of JSON.parse(factory.next().body).events as { customerId: string }[]) {
        counts.set(e.customerId, (counts.get(e.customerId) ?? 0) + 1);
      }
    }
    expect((counts.get(factory.customer(0)) ?? 0) / 50_000).toBeGreaterThan(0.1);
    expect(counts.get(factory.customer(999)) ?? 0).toBeLessThan(60);
  });

  it('makes the first event a probe when asked', () => {
    const factory = new BatchFactory({ batchSize: 3 });
    const batch = factory.next('probe-1');
    const events = JSON.parse(batch.body).events as { eventId: string; metricName: string }[];
    expect(batch.probeId).toBe('probe-1');
    expect(events[0]).toMatchObject({ eventId: 'probe-1', metricName: PROBE_EVENT_TYPE });
    expect(events.slice(1).every((e) => e.metricName !== PROBE_EVENT_TYPE)).toBe(true);
  });

  it('refuses settings that would break the template', () => {
    expect(() => new BatchFactory({ batchSize: 0 })).toThrow(RangeError);
    expect(() => new BatchFactory({ source: 'a"b' })).toThrow(RangeError);
  });
});

describe('decimalFromMilli', () => {
  it.each([
    [1, '0.001'],
    [10, '0.010'],
    [999, '0.999'],
    [1_000, '1.000'],
    [12_345, '12.345'],
    [100_000, '100.000'],
  ])('%d → %s', (milli, text) => expect(decimalFromMilli(milli)).toBe(text));
});
