import { parseMeterDefinition } from '@tally/metering';
import { billingUsageQuery } from './billing-usage';
import { usageFingerprintQuery } from './usage-fingerprint';

const calls = parseMeterDefinition({
  key: 'calls',
  name: 'Calls',
  eventTypes: ['call'],
  aggregation: 'count',
});
const storage = parseMeterDefinition({
  key: 'storage',
  name: 'Storage',
  eventTypes: ['storage'],
  aggregation: 'max',
  valueProperty: 'gb',
});
const from = new Date('2026-10-01T04:00:00Z');
const to = new Date('2026-11-01T04:00:00Z');

describe('billing usage queries', () => {
  it('compute totals and local days of every series for many customers in one statement, exactly', () => {
    const text = billingUsageQuery({
      database: 'tally',
      tenant: 'acme',
      customers: ['a', "o'b"],
      series: [
        { key: 'calls', meter: calls },
        { key: 'storage', meter: storage },
      ],
      from,
      to,
      timezone: 'America/New_York',
    }).text;
    const where = (type: string, extra = '') =>
      `WHERE tenant = 'acme' AND event_type IN ('${type}') AND ts >= toDateTime('2026-10-01 04:00:00', 'UTC') AND ts < toDateTime('2026-11-01 04:00:00', 'UTC') AND customer IN ('a', 'o\\'b')${extra}`;
    const gb =
      "toDecimal128(if(match(properties.value[indexOf(properties.key, 'gb')], '^-?[0-9]{1,26}(\\\\.[0-9]{1,12})?$'), properties.value[indexOf(properties.key, 'gb')], '0'), 12)";
    const isGb =
      " AND match(properties.value[indexOf(properties.key, 'gb')], '^-?[0-9]{1,26}(\\\\.[0-9]{1,12})?$')";
    const trim = (x: string) => `replaceRegexpOne(toString(${x}), '\\\\.0*$|(\\\\.[0-9]*[1-9])0+$', '\\\\1')`;
    const day = "toUInt32(toStartOfDay(ts, 'America/New_York'))";
    expect(text).toBe(
      [
        `SELECT 'calls' AS series, 'total' AS bucket, customer, toUInt32(0) AS day_start, value FROM (SELECT customer, toString(count()) AS value\nFROM \`tally\`.\`events\`\n${where('call')}\nGROUP BY customer\nORDER BY customer\nLIMIT 2)`,
        `SELECT 'calls' AS series, 'day' AS bucket, customer, window_start AS day_start, value FROM (SELECT ${day} AS window_start, customer, toString(count()) AS value\nFROM \`tally\`.\`events\`\n${where('call')}\nGROUP BY window_start, customer\nORDER BY window_start, customer\nLIMIT 64)`,
        `SELECT 'storage' AS series, 'total' AS bucket, customer, toUInt32(0) AS day_start, value FROM (SELECT customer, ${trim(`max(${gb})`)} AS value\nFROM \`tally\`.\`events\`\n${where('storage', isGb)}\nGROUP BY customer\nORDER BY customer\nLIMIT 2)`,
        `SELECT 'storage' AS series, 'day' AS bucket, customer, window_start AS day_start, value FROM (SELECT ${day} AS window_start, customer, ${trim(`max(${gb})`)} AS value\nFROM \`tally\`.\`events\`\n${where('storage', isGb)}\nGROUP BY window_start, customer\nORDER BY window_start, customer\nLIMIT 64)`,
      ].join('\nUNION ALL\n'),
    );
  });

  it('fingerprint the events of the priced types per customer, exactly', () => {
    expect(
      usageFingerprintQuery({
        database: 'tally',
        tenant: 'acme',
        customers: ['a'],
        eventTypes: ['call', 'storage'],
        from,
        to,
      }).text,
    ).toBe(
      [
        'SELECT customer, toString(count()) AS event_count, toString(sum(cityHash64(event_id))) AS checksum',
        'FROM `tally`.`events`',
        "WHERE tenant = 'acme' AND event_type IN ('call', 'storage') AND ts >= toDateTime('2026-10-01 04:00:00', 'UTC') AND ts < toDateTime('2026-11-01 04:00:00', 'UTC') AND customer IN ('a')",
        'GROUP BY customer',
      ].join('\n'),
    );
  });

  it('never put a value into SQL unquoted', () => {
    const evil = "x') OR 1=1 --";
    const text = usageFingerprintQuery({
      database: 'tally',
      tenant: evil,
      customers: [evil],
      eventTypes: [evil],
      from,
      to,
    }).text;
    expect(text).not.toContain("x') OR");
    expect(text).toContain("'x\\') OR 1=1 --'");
  });
});
