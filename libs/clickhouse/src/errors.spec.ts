import { TallyError } from '@tally/errors';
import { ClickHouseError, isTransient, serverCodeOf, toClickHouseError } from './errors';

const v18 = (code: number, text: string) =>
  new Error(`Code: ${code}, e.displayText() = DB::Exception: ${text}, e.what() = DB::Exception`);
const modern = (code: number, text: string, type: string) =>
  new Error(`Code: ${code}. DB::Exception: ${text}. (${type}) (version 24.8.1.1)`);
const socket = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:8123`), { code });

describe('isTransient', () => {
  it.each<[string, unknown]>([
    ['connection refused', socket('ECONNREFUSED')],
    ['connection reset', socket('ECONNRESET')],
    ['socket timeout', socket('ETIMEDOUT')],
    ['client request timeout', new Error('Timeout error.')],
    ['socket hang up', new Error('socket hang up')],
    ['refused inside an AggregateError', new AggregateError([socket('ECONNREFUSED')], '')],
    ['refused as the cause', new Error('request failed', { cause: socket('ECONNREFUSED') })],
    [
      'too many parts (18.16)',
      v18(252, 'Too many parts (300). Merges are processing significantly slower than inserts.'),
    ],
    ['memory limit (18.16)', v18(241, 'Memory limit (for query) exceeded: would use 9.31 GiB')],
    ['memory limit (modern)', modern(241, 'Memory limit (total) exceeded', 'MEMORY_LIMIT_EXCEEDED')],
    ['too many simultaneous queries', v18(202, 'Too many simultaneous queries. Maximum: 100')],
    ['query timeout', v18(159, 'Timeout exceeded: elapsed 30.0 seconds')],
    ['replica read-only', modern(242, 'Table is in readonly mode', 'TABLE_IS_READ_ONLY')],
    ['Keeper lost', modern(999, 'Session expired', 'KEEPER_EXCEPTION')],
    ['plain "Too many parts" text', new Error('Too many parts (600)')],
  ])('%s is transient', (_name, error) => {
    expect(isTransient(error)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['syntax error (18.16)', v18(62, 'Syntax error: failed at position 8')],
    ['syntax error (modern)', modern(62, 'Syntax error: failed at position 8', 'SYNTAX_ERROR')],
    ['unknown table', v18(60, "Table tally.nope doesn't exist.")],
    ['unknown setting', v18(115, 'Unknown setting param_x')],
    ['cannot parse input', v18(27, 'Cannot parse input: expected , before: "1.5"')],
    ['decimal overflow', v18(69, 'Decimal value is too big')],
    ['readonly user', v18(164, 'Cannot execute query in readonly mode')],
    ['a bug of ours', new TypeError('x is undefined')],
    ['a string', 'nope'],
    ['null', null],
  ])('%s is not transient', (_name, error) => {
    expect(isTransient(error)).toBe(false);
  });
});

describe('serverCodeOf', () => {
  it('reads both generations and the client error code', () => {
    expect(serverCodeOf(v18(62, 'x'))).toBe(62);
    expect(serverCodeOf(modern(60, 'x', 'UNKNOWN_TABLE'))).toBe(60);
    expect(serverCodeOf(Object.assign(new Error('x'), { code: '252' }))).toBe(252);
    expect(serverCodeOf(socket('ECONNREFUSED'))).toBeUndefined();
  });
});

describe('toClickHouseError', () => {
  it('maps an unreachable server to CLICKHOUSE_UNAVAILABLE (503, retry after 1 s)', () => {
    const cause = socket('ECONNREFUSED');
    const e = toClickHouseError(cause, { operation: 'insert events' });
    expect(e).toBeInstanceOf(ClickHouseError);
    expect(e).toBeInstanceOf(TallyError);
    expect(e).toMatchObject({
      name: 'ClickHouseError',
      code: 'CLICKHOUSE_UNAVAILABLE',
      httpStatus: 503,
      retryAfterSeconds: 1,
      transient: true,
      operation: 'insert events',
      message: 'ClickHouse is unavailable',
    });
    expect(e.cause).toBe(cause);
  });

  it('maps overload to CLICKHOUSE_UNAVAILABLE with the server code', () => {
    expect(toClickHouseError(v18(252, 'Too many parts'))).toMatchObject({
      code: 'CLICKHOUSE_UNAVAILABLE',
      serverCode: 252,
      transient: true,
    });
  });

  it('maps other failures to CLICKHOUSE_QUERY_FAILED and keeps server text out of the message', () => {
    const e = toClickHouseError(v18(62, "Syntax error near 'secret'"));
    expect(e).toMatchObject({
      code: 'CLICKHOUSE_QUERY_FAILED',
      httpStatus: 500,
      transient: false,
      serverCode: 62,
    });
    expect(e.message).toBe('ClickHouse request failed (server code 62)');
    expect(e.serverMessage).toContain('secret');
    expect(e.toBody().error.message).not.toContain('secret');
  });

  it('returns a ClickHouseError unchanged', () => {
    const e = toClickHouseError(socket('ECONNRESET'));
    expect(toClickHouseError(e)).toBe(e);
  });
});
