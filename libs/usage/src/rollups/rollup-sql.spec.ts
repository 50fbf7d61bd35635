import { sql } from '@tally/clickhouse';
import { parseMeterDefinition, resolveSeries } from '@tally/metering';
import { monthsOf, meterUsesRollup, rangeUsesRollup, seriesUsesRollup } from './eligibility';
import { type BucketRow, rollupBuckets, seriesValue } from './rollup-buckets';
import {
  rollupCoverage,
  rollupMeterQuery,
  rollupTopCustomers,
  seriesTotals,
  wholeUtcDays,
} from './rollup-sql';

const FROM = new Date('2026-03-01T05:00:00Z');
const TO = new Date('2026-04-01T04:00:00Z');
const WHERE_CALLS =
  "WHERE tenant = 'acme' AND event_type IN ('call') AND hour >= toDateTime('2026-03-01 05:00:00', 'UTC') AND hour < toDateTime('2026-04-01 04:00:00', 'UTC')";

const meter = (input: Record<string, unknown>) =>
  parseMeterDefinition({ key: 'calls', name: 'Calls', eventTypes: ['call'], aggregation: 'count', ...input });

describe('roll-up SQL', () => {
  it('meter query: windows, customers, exact decimal text, every value quoted', () => {
    const series = resolveSeries(
      meter({ key: 'units', eventTypes: ['api', "it's"], aggregation: 'avg', valueProperty: 'quantity' }),
    );
    const query = rollupMeterQuery({
      database: 'tally',
      tenant: 'acme',
      series,
      from: FROM,
      to: TO,
      window: 'day',
      timezone: 'America/New_York',
      customers: ["o'brien"],
      groupByCustomer: true,
      limit: 101,
    });
    expect(query.text).toBe(
      [
        "SELECT toUInt32(toStartOfDay(hour, 'America/New_York')) AS window_start, customer, replaceRegexpOne(toString(sumMerge(quantity_sum) / greatest(countMerge(events), 1)), '\\\\.0*$|(\\\\.[0-9]*[1-9])0+$', '\\\\1') AS value",
        'FROM `tally`.`usage_hourly`',
        "WHERE tenant = 'acme' AND event_type IN ('api', 'it\\'s') AND hour >= toDateTime('2026-03-01 05:00:00', 'UTC') AND hour < toDateTime('2026-04-01 04:00:00', 'UTC') AND customer IN ('o\\'brien')",
        'GROUP BY window_start, customer',
        'ORDER BY window_start, customer',
        'LIMIT 101',
      ].join('\n'),
    );
  });

  it('meter query without grouping has no GROUP BY (always one row)', () => {
    const query = rollupMeterQuery({
      database: 'd',
      tenant: 'acme',
      series: resolveSeries(meter({})),
      from: FROM,
      to: TO,
      window: 'none',
      timezone: 'UTC',
      limit: 2,
    });
    expect(query.text).toBe(
      `SELECT toString(countMerge(events)) AS value\nFROM \`d\`.\`usage_hourly\`\n${WHERE_CALLS}\nLIMIT 2`,
    );
  });

  it('hour and month windows', () => {
    const base = {
      database: 'd',
      tenant: 'acme',
      series: resolveSeries(meter({})),
      from: FROM,
      to: TO,
      timezone: 'Europe/Berlin',
      limit: 5,
    };
    expect(rollupMeterQuery({ ...base, window: 'hour' }).text).toContain(
      "toUInt32(toStartOfHour(hour, 'Europe/Berlin')) AS window_start",
    );
    expect(rollupMeterQuery({ ...base, window: 'month' }).text).toContain(
      "toUInt32(toDateTime(toStartOfMonth(hour, 'Europe/Berlin'), 'Europe/Berlin')) AS window_start",
    );
  });

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

  it('series values from buckets, exactly as ClickHouse computes them', () => {
    const rows: BucketRow[] = [
      {
        event_type: 'call',
        events: '2',
        quantity_sum: '10.000000000000',
        quantity_min: '-1.500000000000',
        quantity_max: '11.500000000000',
      },
      {
        event_type: 'call',
        events: '1',
        quantity_sum: '0.000000000001',
        quantity_min: '0.000000000001',
        quantity_max: '0.000000000001',
      },
      { event_type: 'sms', events: '5', quantity_sum: '1000', quantity_min: '-50', quantity_max: '900' },
    ];
    const value = (aggregation: string, eventTypes = ['call']) =>
      seriesValue(
        resolveSeries(
          meter({
            aggregation,
            eventTypes,
            ...(aggregation === 'count' ? {} : { valueProperty: 'quantity' }),
          }),
        ),
        rows,
      );
    expect(value('count')).toBe('3');
    expect(value('count', ['call', 'sms'])).toBe('8');
    expect(value('sum')).toBe('10.000000000001');
    expect(value('min')).toBe('-1.5');
    expect(value('max', ['call', 'sms'])).toBe('900');
    expect(value('avg')).toBe('3.333333333333'); // truncated, as Decimal / UInt64 in ClickHouse
    expect(seriesValue(resolveSeries(meter({ aggregation: 'avg', valueProperty: 'quantity' })), [])).toBe(
      '0',
    );
    expect(
      seriesValue(
        resolveSeries(meter({ aggregation: 'min', valueProperty: 'quantity', eventTypes: ['nothing'] })),
        rows,
      ),
    ).toBe('0');
  });

  it('top customers order by the merged aggregate, then by customer', () => {
    const query = rollupTopCustomers({
      database: 'tally',
      tenant: 'acme',
      series: resolveSeries(meter({ aggregation: 'max', valueProperty: 'quantity' })),
      from: FROM,
      to: TO,
      limit: 10,
    });
    expect(query.text).toBe(
      [
        "SELECT customer, replaceRegexpOne(toString(maxMerge(quantity_max)), '\\\\.0*$|(\\\\.[0-9]*[1-9])0+$', '\\\\1') AS value",
        'FROM `tally`.`usage_hourly`',
        WHERE_CALLS,
        'GROUP BY customer',
        'ORDER BY maxMerge(quantity_max) DESC, customer',
        'LIMIT 10',
      ].join('\n'),
    );
  });

  it('series totals and the coverage check', () => {
    expect(
      seriesTotals([
        { key: "a'b", query: sql`SELECT '1' AS value` },
        { key: 'c', query: sql`SELECT '2' AS value` },
      ]).text,
    ).toBe(
      "SELECT 'a\\'b' AS series, value FROM (SELECT '1' AS value)\nUNION ALL\nSELECT 'c' AS series, value FROM (SELECT '2' AS value)",
    );
    expect(rollupCoverage('tally', 'scan', ['usage_hourly', 'usage_daily']).text).toBe(
      [
        'SELECT month, source, sum(n) AS n FROM (',
        "SELECT toYYYYMM(ts) AS month, 'events' AS source, count() AS n FROM `tally`.`events` GROUP BY month",
        'UNION ALL',
        "SELECT toYYYYMM(hour) AS month, 'usage_hourly' AS source, countMerge(events) AS n FROM `tally`.`usage_hourly` GROUP BY month",
        'UNION ALL',
        "SELECT toYYYYMM(day) AS month, 'usage_daily' AS source, countMerge(events) AS n FROM `tally`.`usage_daily` GROUP BY month",
        ')',
        'GROUP BY month, source',
      ].join('\n'),
    );
    expect(rollupCoverage('tally', 'parts', []).text.split('\n')[1]).toBe(
      "SELECT toUInt32(partition) AS month, 'events' AS source, sum(rows) AS n FROM system.parts WHERE database = 'tally' AND table = 'events' AND active GROUP BY month",
    );
  });

  it('tiered: whole UTC days from the daily roll-up, the hours at the ends from the hour-first one', () => {
    const series = resolveSeries(
      meter({ key: 'units', eventTypes: ['api'], aggregation: 'avg', valueProperty: 'quantity' }),
    );
    const query = rollupMeterQuery({
      database: 'tally',
      tenant: 'acme',
      series,
      from: FROM,
      to: TO,
      window: 'none',
      timezone: 'America/New_York',
      groupByCustomer: true,
      limit: 101,
      tiered: true,
    });
    expect(query.text).toBe(
      [
        "SELECT customer, replaceRegexpOne(toString(sumMerge(quantity_sum) / greatest(countMerge(events), 1)), '\\\\.0*$|(\\\\.[0-9]*[1-9])0+$', '\\\\1') AS value",
        "FROM (SELECT customer, quantity_sum, events FROM `tally`.`usage_daily` WHERE tenant = 'acme' AND event_type IN ('api') AND day >= toDateTime('2026-03-02 00:00:00', 'UTC') AND day < toDateTime('2026-04-01 00:00:00', 'UTC') UNION ALL SELECT customer, quantity_sum, events FROM `tally`.`usage_hourly_by_time` WHERE tenant = 'acme' AND event_type IN ('api') AND ((hour >= toDateTime('2026-03-01 05:00:00', 'UTC') AND hour < toDateTime('2026-03-02 00:00:00', 'UTC')) OR (hour >= toDateTime('2026-04-01 00:00:00', 'UTC') AND hour < toDateTime('2026-04-01 04:00:00', 'UTC'))))",
        'GROUP BY customer',
        'ORDER BY customer',
        'LIMIT 101',
      ].join('\n'),
    );
    // Whole days only: no hourly branch. Less than a whole day: the customer-first table as usual.
    const count = resolveSeries(meter({}));
    const days = { database: 'd', tenant: 'acme', series: count, limit: 10, tiered: true };
    expect(
      rollupTopCustomers({
        ...days,
        from: new Date('2026-03-01T00:00:00Z'),
        to: new Date('2026-04-01T00:00:00Z'),
      }).text,
    ).toBe(
      [
        'SELECT customer, toString(countMerge(events)) AS value',
        "FROM (SELECT customer, events FROM `d`.`usage_daily` WHERE tenant = 'acme' AND event_type IN ('call') AND day >= toDateTime('2026-03-01 00:00:00', 'UTC') AND day < toDateTime('2026-04-01 00:00:00', 'UTC'))",
        'GROUP BY customer',
        'ORDER BY countMerge(events) DESC, customer',
        'LIMIT 10',
      ].join('\n'),
    );
    expect(
      rollupTopCustomers({
        ...days,
        from: new Date('2026-03-01T05:00:00Z'),
        to: new Date('2026-03-02T04:00:00Z'),
      }).text,
    ).toContain('FROM `d`.`usage_hourly`\nWHERE');
    expect(wholeUtcDays(new Date('2026-03-01T05:00:00Z'), new Date('2026-03-03T01:00:00Z'))).toEqual({
      start: new Date('2026-03-02T00:00:00Z'),
      end: new Date('2026-03-03T00:00:00Z'),
    });
  });

  it('refuses series the roll-up cannot answer (a bug in the caller, not bad input)', () => {
    const filtered = resolveSeries(
      meter({ filters: [{ property: 'country', operator: 'eq', value: 'USA' }] }),
    );
    expect(() =>
      rollupMeterQuery({
        database: 'd',
        tenant: 't',
        series: filtered,
        from: FROM,
        to: TO,
        window: 'none',
        timezone: 'UTC',
        limit: 1,
      }),
    ).toThrow(/cannot be answered from the roll-up/);
  });
});

describe('roll-up eligibility', () => {
  it('count, and sum/min/max/avg of quantity, without filters', () => {
    expect(seriesUsesRollup(resolveSeries(meter({})))).toBe(true);
    for (const aggregation of ['sum', 'min', 'max', 'avg']) {
      expect(seriesUsesRollup(resolveSeries(meter({ aggregation, valueProperty: 'quantity' })))).toBe(true);
      expect(seriesUsesRollup(resolveSeries(meter({ aggregation, valueProperty: 'duration' })))).toBe(false);
    }
    expect(
      seriesUsesRollup(resolveSeries(meter({ aggregation: 'unique_count', valueProperty: 'quantity' }))),
    ).toBe(false);
    expect(seriesUsesRollup(resolveSeries(meter({ aggregation: 'latest', valueProperty: 'quantity' })))).toBe(
      false,
    );
    expect(seriesUsesRollup(resolveSeries(meter({ filters: [{ property: 'x', operator: 'exists' }] })))).toBe(
      false,
    );
    const withProfile = meter({
      profiles: [
        {
          key: 'usa',
          name: 'US',
          aggregation: 'count',
          filters: [{ property: 'country', operator: 'eq', value: 'USA' }],
        },
      ],
    });
    expect(seriesUsesRollup(resolveSeries(withProfile))).toBe(true);
    expect(seriesUsesRollup(resolveSeries(withProfile, 'usa'))).toBe(false);
    expect(meterUsesRollup(withProfile)).toBe(false);
  });

  it('whole UTC hours, no minute windows, zones whose offset is whole hours', () => {
    const from = new Date('2026-03-01T05:00:00Z');
    const to = new Date('2026-04-01T04:00:00Z');
    expect(rangeUsesRollup(from, to, 'none', 'Asia/Kolkata')).toBe(true);
    expect(rangeUsesRollup(from, to, 'day', 'America/New_York')).toBe(true);
    expect(rangeUsesRollup(from, to, 'hour', 'Europe/Berlin')).toBe(true);
    expect(rangeUsesRollup(from, to, 'day', 'Asia/Kolkata')).toBe(false);
    expect(rangeUsesRollup(from, to, 'day', 'Australia/Lord_Howe')).toBe(false); // 30-minute DST
    expect(rangeUsesRollup(from, to, 'minute', 'UTC')).toBe(false);
    expect(rangeUsesRollup(new Date('2026-03-01T05:00:01Z'), to, 'none', 'UTC')).toBe(false);
    expect(rangeUsesRollup(from, new Date('2026-04-01T04:30:00Z'), 'none', 'UTC')).toBe(false);
  });

  it('months of a range as toYYYYMM reports them', () => {
    expect(monthsOf(new Date('2026-02-28T23:00:00Z'), new Date('2026-04-01T00:00:00Z'))).toEqual([
      202602, 202603,
    ]);
    expect(monthsOf(new Date('2025-12-31T00:00:00Z'), new Date('2026-01-01T00:00:01Z'))).toEqual([
      202512, 202601,
    ]);
  });
});
