import { SqlQuoteError } from './quote';
import { rollupTables } from './rollup-tables';

describe('rollupTables', () => {
  it('asks system.tables for the engine of events and which roll-up tables exist', () => {
    expect(rollupTables('tally').text).toBe(
      "SELECT name, engine FROM system.tables WHERE database = 'tally' AND name IN ('events', 'usage_hourly', 'usage_daily', 'usage_hourly_by_time')",
    );
    expect(rollupTables("it's").text).toBe(
      "SELECT name, engine FROM system.tables WHERE database = 'it\\'s' AND name IN ('events', 'usage_hourly', 'usage_daily', 'usage_hourly_by_time')",
    );
  });

  it('quotes the database as a value, whatever it holds', () => {
    expect(() => rollupTables('\uD800')).toThrow(SqlQuoteError);
  });
});
