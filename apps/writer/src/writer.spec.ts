import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '@tally/config';
import { loadWriterConfig } from './writer.config';

const workspace = path.resolve(__dirname, '../../..');

describe('writer configuration', () => {
  it('defaults to the embedded setup: nice 10, 8 MiB or 1 s batches, late events on', () => {
    expect(loadWriterConfig({})).toMatchObject({
      port: 3002,
      host: '127.0.0.1',
      natsPrefix: 'tally',
      clickhouseDatabase: 'tally',
      maxBatchBytes: 8 * 1024 * 1024,
      flushIntervalMs: 1_000,
      ackWaitMs: 30_000,
      nice: 10,
      heapGrowingPercent: 50,
      lateEvents: true,
      eventsMaxBytes: 1024 ** 3,
      deadLettersMaxBytes: 256 * 1024 ** 2,
    });
    // Late events go to a stream; the writer has nothing to do with Temporal.
    expect(Object.keys(loadWriterConfig({})).filter((k) => /temporal|taskQueue|rebill/i.test(k))).toEqual([]);
  });

  it('reads every key from the environment', () => {
    const config = loadWriterConfig({
      WRITER_PORT: '4002',
      WRITER_NICE: '0',
      WRITER_FLUSH_INTERVAL_MS: '250',
      WRITER_LATE_EVENTS: 'false',
      TALLY_NATS_PREFIX: 't_x',
    });
    expect(config).toMatchObject({
      port: 4002,
      nice: 0,
      flushIntervalMs: 250,
      lateEvents: false,
      natsPrefix: 't_x',
    });
  });

  it('refuses bad values, naming every bad key at once', () => {
    const bad = {
      WRITER_PORT: 'abc',
      WRITER_NICE: '20',
      WRITER_FLUSH_INTERVAL_MS: '5',
      WRITER_LATE_EVENTS: 'yes',
    };
    let error: unknown;
    try {
      loadWriterConfig(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.env).sort()).toEqual(Object.keys(bad).sort());
    expect((error as ConfigError).issues.find((i) => i.env === 'WRITER_NICE')?.message).toBe(
      'must be at most 19',
    );
  });

  it('reads a NATS and ClickHouse cluster: several NATS URLs, stream replicas, the cluster and its shards', () => {
    const config = loadWriterConfig({
      NATS_URL: 'nats://127.0.0.1:24331,nats://127.0.0.1:24332,nats://127.0.0.1:24333',
      TALLY_STREAM_REPLICAS: '3',
      CLICKHOUSE_CLUSTER: 'tally_cluster',
      CLICKHOUSE_SHARD_URLS: 'http://127.0.0.1:28123,http://127.0.0.1:28125',
    });
    expect(config).toMatchObject({ replicas: 3, clickhouseCluster: 'tally_cluster' });
    expect(loadWriterConfig({})).toMatchObject({ replicas: 1, clickhouseCluster: '', clickhouseShardUrls: '' });
    expect(() => loadWriterConfig({ CLICKHOUSE_CLUSTER: 'tally_cluster' })).toThrow(/CLICKHOUSE_SHARD_URLS/);
    expect(() => loadWriterConfig({ CLICKHOUSE_SHARD_URLS: 'http://a:8123' })).toThrow(/CLICKHOUSE_CLUSTER/);
    expect(() => loadWriterConfig({ NATS_URL: 'nats://a:4222,http://b:4222' })).toThrow(/NATS_URL/);
    expect(() => loadWriterConfig({ CLICKHOUSE_CLUSTER: 'a-b', CLICKHOUSE_SHARD_URLS: 'http://a:8123' })).toThrow(/plain identifier/);
  });
});

describe('writer boot', () => {
  it('exits with status 1 and the list of bad keys before connecting to anything', async () => {
    // NATS and ClickHouse point at a closed port: a writer that connected before validating would hang
    // or fail with a connection error instead of this message.
    const run = promisify(execFile)(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/writer/src/main.ts'],
      {
        cwd: workspace,
        timeout: 60_000,
        env: {
          ...process.env,
          SWC_NODE_PROJECT: path.join(workspace, 'tsconfig.base.json'),
          WRITER_PORT: 'abc',
          WRITER_NICE: '-1',
          NATS_URL: 'nats://127.0.0.1:1',
          CLICKHOUSE_URL: 'http://127.0.0.1:1',
        },
      },
    );
    const failed = await run.then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('writer: invalid configuration (2 keys):');
    expect(failed?.stderr).toContain('WRITER_PORT="abc": must be a whole number');
    expect(failed?.stderr).toContain('WRITER_NICE="-1": must be at least 0');
  }, 60_000);
});
