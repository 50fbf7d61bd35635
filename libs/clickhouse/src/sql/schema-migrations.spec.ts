import { SqlQuoteError } from './quote';
import { recordedMigrationsSql, recordMigrationSql } from './schema-migrations';

describe('schema_migrations SQL', () => {
  it('records a migration with its version, name and checksum as literals', () => {
    expect(recordMigrationSql('tally', { version: 3, name: "usage_rollups'", checksum: 'ab12' }).text).toBe(
      "INSERT INTO `tally`.`schema_migrations` (version, name, checksum) VALUES (3, 'usage_rollups\\'', 'ab12')",
    );
  });

  it('reads one row per version, in version order', () => {
    expect(recordedMigrationsSql('billing').text).toBe(
      'SELECT version, any(name) AS name, any(checksum) AS checksum FROM `billing`.`schema_migrations` GROUP BY version ORDER BY version',
    );
  });

  it('refuses a database name that is not an identifier', () => {
    expect(() => recordedMigrationsSql('a-b')).toThrow(SqlQuoteError);
  });
});
