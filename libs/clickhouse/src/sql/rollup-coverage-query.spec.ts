import { sql } from './quote';
import { rollupCoverage } from './rollup-coverage-query';
import { seriesTotals } from './series-totals';

describe('seriesTotals and rollupCoverage', () => {
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
});
