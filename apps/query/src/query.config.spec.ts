import { ConfigError } from '@tally/config';
import { loadQueryConfig } from './query.config';

describe('query config', () => {
  it('defaults to the embedded setup', () => {
    expect(loadQueryConfig({})).toMatchObject({
      port: 3001,
      host: '127.0.0.1',
      natsPrefix: 'tally',
      natsUrl: 'nats://127.0.0.1:4322',
      clickhouseDatabase: 'tally',
      bodyLimitBytes: 1024 * 1024,
      docs: true,
    });
  });

  it('names every bad key at once', () => {
    expect(() =>
      loadQueryConfig({ QUERY_PORT: 'abc', QUERY_DOCS: 'maybe', CLICKHOUSE_DATABASE: 'a-b' }),
    ).toThrow(ConfigError);
    try {
      loadQueryConfig({ QUERY_PORT: 'abc', QUERY_DOCS: 'maybe', CLICKHOUSE_DATABASE: 'a-b' });
    } catch (e) {
      expect((e as ConfigError).issues.map((i) => i.env).sort()).toEqual([
        'CLICKHOUSE_DATABASE',
        'QUERY_DOCS',
        'QUERY_PORT',
      ]);
    }
  });
});
