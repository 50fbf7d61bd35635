import { rollupBuckets } from './rollup-buckets';

const FROM = new Date('2026-03-01T05:00:00Z');
const TO = new Date('2026-04-01T04:00:00Z');

describe('roll-up SQL', () => {
  it("one customer's buckets: per event type (and local day), every partial aggregate", () => {
    const query = rollupBuckets({
      database: 'tally',
      tenant: 'acme',
      customer: "o'brien",
      eventTypes: ['call', 'sms'],
      from: FROM,
      to: TO,
      byDayIn: 'America/New_York',
    });
    expect(query.text).toBe(
      [
        "SELECT event_type, toUInt32(toStartOfDay(hour, 'America/New_York')) AS day_start, countMerge(events) AS events, sumMerge(quantity_sum) AS quantity_sum, minMerge(quantity_min) AS quantity_min, maxMerge(quantity_max) AS quantity_max",
        'FROM `tally`.`usage_hourly`',
        "WHERE tenant = 'acme' AND customer = 'o\\'brien' AND event_type IN ('call', 'sms') AND hour >= toDateTime('2026-03-01 05:00:00', 'UTC') AND hour < toDateTime('2026-04-01 04:00:00', 'UTC')",
        'GROUP BY event_type, day_start',
      ].join('\n'),
    );
    expect(
      rollupBuckets({ database: 'd', tenant: 't', customer: 'c', eventTypes: ['x'], from: FROM, to: TO })
        .text,
    ).toContain('GROUP BY event_type');
  });
});
