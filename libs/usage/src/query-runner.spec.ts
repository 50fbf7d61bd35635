import { type ClickHouse, ClickHouseError, sql } from '@tally/clickhouse';
import { QueryTooExpensiveError, ResultTooLargeError } from './errors';
import { QueryRunner } from './query-runner';

function fakeClickHouse(answer: () => Promise<unknown[]>, seen: unknown[] = []): ClickHouse {
  return {
    database: 'tally',
    query: (_query: unknown, options: unknown) => {
      seen.push(options);
      return answer();
    },
  } as unknown as ClickHouse;
}

const serverError = (code: number) =>
  new ClickHouseError('CLICKHOUSE_QUERY_FAILED', 'ClickHouse request failed', code === 159, {
    serverCode: code,
  });

describe('QueryRunner', () => {
  it('sends the limits 18.16 knows and returns the rows', async () => {
    const seen: unknown[] = [];
    const runner = new QueryRunner(
      fakeClickHouse(async () => [{ value: '1' }], seen),
      7,
    );
    expect(await runner.rows(sql`SELECT 1`, 10, 'test')).toEqual([{ value: '1' }]);
    expect(seen[0]).toEqual({
      exactNumbers: true,
      operation: 'test',
      settings: { max_execution_time: 7, max_result_rows: '11', result_overflow_mode: 'throw' },
    });
    await runner.rows(sql`SELECT 1`, 10, 'test', true);
    expect(seen[1]).toMatchObject({ settings: { max_threads: 1, use_uncompressed_cache: 1 } });
  });

  it('one row more than allowed is RESULT_TOO_LARGE (422)', async () => {
    const runner = new QueryRunner(
      fakeClickHouse(async () => [{}, {}, {}]),
      7,
    );
    await expect(runner.rows(sql`SELECT 1`, 2, 'test')).rejects.toBeInstanceOf(ResultTooLargeError);
  });

  it('maps the server limits to 422s and passes other failures through', async () => {
    const tooMany = new QueryRunner(
      fakeClickHouse(() => Promise.reject(serverError(396))),
      7,
    );
    await expect(tooMany.rows(sql`SELECT 1`, 2, 'test')).rejects.toMatchObject({
      code: 'RESULT_TOO_LARGE',
      httpStatus: 422,
    });
    const slow = new QueryRunner(
      fakeClickHouse(() => Promise.reject(serverError(159))),
      7,
    );
    await expect(slow.rows(sql`SELECT 1`, 2, 'test')).rejects.toBeInstanceOf(QueryTooExpensiveError);
    await expect(slow.rows(sql`SELECT 1`, 2, 'test')).rejects.toMatchObject({
      code: 'QUERY_TOO_EXPENSIVE',
      httpStatus: 422,
    });
    const broken = new QueryRunner(
      fakeClickHouse(() => Promise.reject(serverError(62))),
      7,
    );
    await expect(broken.rows(sql`SELECT 1`, 2, 'test')).rejects.toMatchObject({
      code: 'CLICKHOUSE_QUERY_FAILED',
    });
  });
});
