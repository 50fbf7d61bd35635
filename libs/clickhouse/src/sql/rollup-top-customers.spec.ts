import { parseMeterDefinition, resolveSeries } from '@tally/metering';
import { rollupTopCustomers } from './rollup-top-customers';

const FROM = new Date('2026-03-01T05:00:00Z');
const TO = new Date('2026-04-01T04:00:00Z');
const WHERE_CALLS =
  "WHERE tenant = 'acme' AND event_type IN ('call') AND hour >= toDateTime('2026-03-01 05:00:00', 'UTC') AND hour < toDateTime('2026-04-01 04:00:00', 'UTC')";

const meter = (input: Record<string, unknown>) =>
  parseMeterDefinition({ key: 'calls', name: 'Calls', eventTypes: ['call'], aggregation: 'count', ...input });


describe('rollupTopCustomers', () => {
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
});
