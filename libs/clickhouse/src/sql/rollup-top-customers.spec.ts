import { resolveSeries } from '@tally/metering';
import { rollupTopCustomers } from './rollup-top-customers';
import { FROM, meter, TO, WHERE_CALLS } from './test-support/rollup-fixture';

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
