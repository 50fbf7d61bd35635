import { ValidationFailedError } from '@tally/errors';
import { customerPeriodUsage, type CustomerPeriodUsageParams } from './customer-period-usage';
import { parseMeterDefinition } from '@tally/metering';

const calls = parseMeterDefinition({
  key: 'calls',
  name: 'Calls',
  eventTypes: ['call'],
  aggregation: 'count',
  profiles: [
    {
      key: 'long',
      name: 'Long calls',
      aggregation: 'sum',
      valueProperty: 'quantity',
      filters: [{ property: 'quantity', operator: 'gte', value: 60 }],
    },
  ],
});
const storage = parseMeterDefinition({
  key: 'storage',
  name: 'Storage',
  eventTypes: ['storage'],
  aggregation: 'latest',
  valueProperty: 'quantity',
});

const params = (overrides: Partial<CustomerPeriodUsageParams> = {}): CustomerPeriodUsageParams => ({
  database: 'tally',
  tenant: 'acme',
  customer: "o'brien",
  meters: [calls, storage],
  from: new Date('2026-03-01T05:00:00Z'),
  to: new Date('2026-04-01T04:00:00Z'),
  timezone: 'America/New_York',
  ...overrides,
});

describe('customerPeriodUsage', () => {
  it('builds one UNION ALL of a total and a per-day branch per series, exactly', () => {
    const where = (type: string, extra = '') =>
      `WHERE tenant = 'acme' AND event_type IN ('${type}') AND ts >= toDateTime('2026-03-01 05:00:00', 'UTC') AND ts < toDateTime('2026-04-01 04:00:00', 'UTC') AND customer IN ('o\\'brien')${extra}`;
    const day = "toUInt32(toStartOfDay(ts, 'America/New_York'))";
    const trim = (x: string) => `replaceRegexpOne(toString(${x}), '\\\\.0*$|(\\\\.[0-9]*[1-9])0+$', '\\\\1')`;
    const long = " AND quantity >= toDecimal128('60', 12)";
    expect(customerPeriodUsage(params()).text).toBe(
      [
        'SELECT series, bucket, day_start, value FROM (',
        [
          `SELECT 'calls' AS series, 'total' AS bucket, toUInt32(0) AS day_start, toString(count()) AS value FROM \`tally\`.\`events\` ${where('call')}`,
          `SELECT 'calls' AS series, 'day' AS bucket, ${day} AS day_start, toString(count()) AS value FROM \`tally\`.\`events\` ${where('call')} GROUP BY day_start`,
          `SELECT 'calls:long' AS series, 'total' AS bucket, toUInt32(0) AS day_start, ${trim('sum(quantity)')} AS value FROM \`tally\`.\`events\` ${where('call', long)}`,
          `SELECT 'calls:long' AS series, 'day' AS bucket, ${day} AS day_start, ${trim('sum(quantity)')} AS value FROM \`tally\`.\`events\` ${where('call', long)} GROUP BY day_start`,
          `SELECT 'storage' AS series, 'total' AS bucket, toUInt32(0) AS day_start, ${trim('argMax(quantity, (ts, ts_ms, event_id))')} AS value FROM \`tally\`.\`events\` ${where('storage')}`,
          `SELECT 'storage' AS series, 'day' AS bucket, ${day} AS day_start, ${trim('argMax(quantity, (ts, ts_ms, event_id))')} AS value FROM \`tally\`.\`events\` ${where('storage')} GROUP BY day_start`,
        ].join('\nUNION ALL\n'),
        ')',
        'ORDER BY series, bucket, day_start',
      ].join('\n'),
    );
  });

  it('validates its parameters', () => {
    const codes = (p: CustomerPeriodUsageParams) => {
      try {
        customerPeriodUsage(p);
        return [];
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationFailedError);
        return (e as ValidationFailedError).details.map((d) => `${d.field}:${d.code}`);
      }
    };
    expect(codes(params({ meters: [] }))).toEqual(['meters:TOO_SHORT']);
    expect(codes(params({ meters: [calls, calls] }))).toEqual(['meters:DUPLICATE', 'meters:DUPLICATE']);
    expect(codes(params({ timezone: 'Mars/Olympus' }))).toEqual(['timezone:INVALID_TIMEZONE']);
    expect(codes(params({ to: params().from }))).toEqual(['to:EMPTY_RANGE']);
  });
});
