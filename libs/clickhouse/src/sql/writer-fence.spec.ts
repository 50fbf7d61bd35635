import {
  createStagingTableSql,
  currentFenceSql,
  fencedCommitSql,
  runningStaleCommitsSql,
  stagingTablesSql,
  truncateStagingTableSql,
  writeFenceSql,
} from './writer-fence';

describe('writer fence SQL', () => {
  it('commits only while the token is the partition latest, read once by a scalar subquery', () => {
    expect(fencedCommitSql('tally', 'events', ['tenant', 'properties.key'], 3, 17).text).toBe(
      'INSERT INTO `tally`.`events` (`tenant`, `properties`.`key`) SELECT `tenant`, `properties`.`key` FROM `tally`.`events_stage_p3_t17` WHERE (SELECT max(token) FROM `tally`.`writer_fences` WHERE partition = 3) = 17',
    );
  });

  it('writes and reads the fence', () => {
    expect(writeFenceSql('tally', 0, 5).text).toBe('INSERT INTO `tally`.`writer_fences` (partition, token) VALUES (0, 5)');
    expect(currentFenceSql('tally', 0).text).toBe(
      'SELECT toString(max(token)) AS token FROM `tally`.`writer_fences` WHERE partition = 0',
    );
  });

  it('finds the commits of older tokens by query id (startsWith: a LIKE would read _ as a wildcard)', () => {
    expect(runningStaleCommitsSql('t_ab', 2, 9).text).toBe(
      "SELECT count() AS running FROM system.processes WHERE startsWith(query_id, 't_ab:p2:t') AND NOT startsWith(query_id, 't_ab:p2:t9:')",
    );
  });

  it('stages in memory with the columns of events', () => {
    expect(createStagingTableSql('tally', 'events_local', 1, 4).text).toBe(
      'CREATE TABLE IF NOT EXISTS `tally`.`events_stage_p1_t4` AS `tally`.`events_local` ENGINE = Memory',
    );
    expect(truncateStagingTableSql('tally', 1, 4).text).toBe('TRUNCATE TABLE `tally`.`events_stage_p1_t4`');
    expect(stagingTablesSql('tally', 1).text).toBe(
      "SELECT name FROM system.tables WHERE database = 'tally' AND startsWith(name, 'events_stage_p1_t')",
    );
  });

  it('refuses a token that is not a positive integer (0 is what an empty fence table reads)', () => {
    expect(() => writeFenceSql('tally', 0, 0)).toThrow(RangeError);
    expect(() => fencedCommitSql('tally', 'events', ['tenant'], -1, 3)).toThrow(RangeError);
    expect(() => writeFenceSql('tally', 0, 1.5)).toThrow(RangeError);
  });
});
