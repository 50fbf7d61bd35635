import { EVENT_COLUMNS } from '../repositories/eventStore';
import { insertFormatSql, type InsertFormat } from './insert-format';
import { identifier, SqlQuoteError } from './quote';

describe('insertFormatSql', () => {
  it('names the table, every column (Nested ones part by part) and the format', () => {
    expect(insertFormatSql(identifier('tally', 'events'), EVENT_COLUMNS, 'RowBinary').text).toBe(
      'INSERT INTO `tally`.`events` (`tenant`, `customer`, `event_type`, `ts`, `ts_ms`, `event_id`, `quantity`, ' +
        '`properties`.`key`, `properties`.`value`, `source`, `schema_version`, `request_id`, `received_at`, `payload_hash`) FORMAT RowBinary',
    );
    expect(insertFormatSql(identifier('analytics', 'datapoints'), ['tenant', 'double1'], 'JSONEachRow').text).toBe(
      'INSERT INTO `analytics`.`datapoints` (`tenant`, `double1`) FORMAT JSONEachRow',
    );
  });

  it('refuses a column that is not an identifier, no columns, and formats it does not send', () => {
    expect(() => insertFormatSql(identifier('tally', 'events'), ['tenant; DROP TABLE x'], 'RowBinary')).toThrow(SqlQuoteError);
    expect(() => insertFormatSql(identifier('tally', 'events'), [], 'RowBinary')).toThrow(SqlQuoteError);
    expect(() => insertFormatSql(identifier('tally', 'events'), ['tenant'], 'CSV' as InsertFormat)).toThrow(SqlQuoteError);
  });
});
