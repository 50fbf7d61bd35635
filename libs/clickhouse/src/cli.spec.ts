import { parseArgs } from './cli';

describe('cli parseArgs', () => {
  it('reads the command, the database from the environment and the cluster', () => {
    expect(parseArgs(['migrate'], {})).toEqual({ command: 'migrate', database: 'tally', cluster: undefined });
    expect(parseArgs(['render', '--cluster', 'prod'], { CLICKHOUSE_DATABASE: 'billing' })).toEqual({
      command: 'render',
      database: 'billing',
      cluster: { name: 'prod', replicated: true },
    });
    expect(parseArgs(['render', '--cluster=prod', '--not-replicated', '--database=x'], {})).toEqual({
      command: 'render',
      database: 'x',
      cluster: { name: 'prod', replicated: false },
    });
  });

  it.each([
    [[]],
    [['drop']],
    [['render', '--cluster']],
    [['render', '--not-replicated']],
    [['migrate', '--nope']],
  ])('rejects %j', (argv) => {
    expect(() => parseArgs(argv, {})).toThrow();
  });
});
