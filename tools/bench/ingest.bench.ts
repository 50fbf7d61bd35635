/**
 * `npm run bench:ingest [-- --duration 60 --connections 8 ...]`: the ingestion benchmark. Starts its
 * own gateway and writer, measures, prints one JSON document on stdout (progress goes to stderr).
 * What each figure means: docs/benchmarks.md.
 */
import { writeFileSync } from 'node:fs';
import { numberOption, parseArgs, usage, type OptionSpec } from '../loadgen';
import { defaultIngestBenchOptions as d, runIngestBench } from './ingest-bench';

const specs = {
  duration: { env: 'BENCH_DURATION_S', help: `seconds of the max-throughput phase (default ${d.durationS})` },
  'half-duration': {
    env: 'BENCH_HALF_DURATION_S',
    help: `seconds of the half-rate phase (default ${d.halfDurationS})`,
  },
  warmup: { env: 'BENCH_WARMUP_S', help: `unmeasured closed-loop seconds first (default ${d.warmupS})` },
  batch: { env: 'BENCH_BATCH', help: `events per request (default ${d.batchSize})` },
  customers: { env: 'BENCH_CUSTOMERS', help: `distinct customers (default ${d.customers})` },
  zipf: { env: 'BENCH_ZIPF', help: `Zipf exponent of the customer distribution (default ${d.zipfExponent})` },
  connections: { env: 'BENCH_CONNECTIONS', help: `HTTP keep-alive connections (default ${d.connections})` },
  pipelining: {
    env: 'BENCH_PIPELINING',
    help: `requests in flight per connection (default ${d.pipelining})`,
  },
  concurrency: {
    env: 'BENCH_CONCURRENCY',
    help: 'max phase: requests in flight (default connections x pipelining)',
  },
  'max-backlog': {
    env: 'BENCH_MAX_BACKLOG',
    help: `max phase: hold requests while more accepted events than this are not stored (default ${d.maxBacklogEvents}; 0 = gateway flat out)`,
  },
  'probe-ms': {
    env: 'BENCH_PROBE_MS',
    help: `one receipt-to-queryable probe every N ms (default ${d.probeIntervalMs})`,
  },
  'flush-ms': {
    env: 'BENCH_WRITER_FLUSH_MS',
    help: 'writer flush interval (default: the writer default, 1000)',
  },
  'baseline-js-seconds': {
    env: 'BENCH_BASELINE_JS_S',
    help: `seconds of raw JetStream publishing (default ${d.baselineJetStreamS})`,
  },
  'baseline-ch-rows': {
    env: 'BENCH_BASELINE_CH_ROWS',
    help: `rows of the raw ClickHouse insert (default ${d.baselineClickHouseRows})`,
  },
  gateways: {
    env: 'BENCH_GATEWAYS',
    help: `gateway processes, the load spread over them (default ${d.gateways})`,
  },
  writers: { env: 'BENCH_WRITERS', help: `writer processes (default ${d.writers})` },
  partitions: {
    env: 'BENCH_PARTITIONS',
    help: 'partitions of the events stream (default: the number of writers)',
  },
  profile: {
    env: 'BENCH_PROFILE_DIR',
    help: 'write CPU profiles of gateway and writer (max phase) to this directory',
  },
  output: { env: 'BENCH_OUTPUT', help: 'also write the JSON result to this file' },
  help: { flag: true, help: 'print this help' },
} satisfies Record<string, OptionSpec>;

async function main(): Promise<void> {
  const args = parseArgs(specs);
  if (args.help) {
    process.stdout.write(`usage: npm run bench:ingest -- [options]\n${usage(specs)}\n`);
    return;
  }
  const int = { integer: true, min: 1 };
  const writers = numberOption(args, 'writers', d.writers, { ...int, max: 16 });
  const result = await runIngestBench({
    durationS: numberOption(args, 'duration', d.durationS, { min: 1 }),
    halfDurationS: numberOption(args, 'half-duration', d.halfDurationS, { min: 1 }),
    warmupS: numberOption(args, 'warmup', d.warmupS, { min: 0 }),
    batchSize: numberOption(args, 'batch', d.batchSize, { ...int, max: 1_000 }),
    customers: numberOption(args, 'customers', d.customers, int),
    zipfExponent: numberOption(args, 'zipf', d.zipfExponent, { min: 0, max: 10 }),
    connections: numberOption(args, 'connections', d.connections, { ...int, max: 1_000 }),
    pipelining: numberOption(args, 'pipelining', d.pipelining, { ...int, max: 100 }),
    concurrency:
      args.concurrency === undefined
        ? undefined
        : numberOption(args, 'concurrency', 1, { ...int, max: 10_000 }),
    probeIntervalMs: numberOption(args, 'probe-ms', d.probeIntervalMs, { min: 10 }),
    maxBacklogEvents: numberOption(args, 'max-backlog', d.maxBacklogEvents, { integer: true, min: 0 }),
    writerFlushMs:
      args['flush-ms'] === undefined ? undefined : numberOption(args, 'flush-ms', 1_000, { ...int, min: 10 }),
    baselineJetStreamS: numberOption(args, 'baseline-js-seconds', d.baselineJetStreamS, { min: 0.5 }),
    baselineClickHouseRows: numberOption(args, 'baseline-ch-rows', d.baselineClickHouseRows, int),
    gateways: numberOption(args, 'gateways', d.gateways, { ...int, max: 16 }),
    writers,
    partitions: numberOption(args, 'partitions', writers, { ...int, min: writers, max: 1_024 }),
    profileDir: args.profile,
    log: (line) => process.stderr.write(`[bench:ingest ${new Date().toISOString().slice(11, 19)}] ${line}\n`),
  });
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(`${json}\n`);
  if (args.output) writeFileSync(args.output, `${json}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
