/**
 * Load generator for a running gateway: batches of native events with a Zipf customer distribution.
 *
 *   node -r @swc-node/register tools/loadgen/cli.ts --url http://127.0.0.1:3000 --key "$TALLY_KEY" --duration 10
 *   node -r @swc-node/register tools/loadgen/cli.ts --key "$TALLY_KEY" --rate 20000 --duration 30
 *
 * Without --rate it runs closed loop (as fast as the gateway answers); with --rate, open loop at that
 * many events/s. Prints one JSON document (see docs/benchmarks.md).
 */
import { BatchFactory } from './event-batches';
import { HttpLoad } from './http-load';
import { numberOption, parseArgs, usage, type OptionSpec } from './args';
import { seededRandom } from './zipf';

const specs = {
  url: { env: 'LOADGEN_URL', help: 'gateway base URL (default http://127.0.0.1:3000)' },
  key: { env: 'TALLY_KEY', help: 'ingest API key of the tenant (required)' },
  duration: { env: 'LOADGEN_DURATION_S', help: 'seconds to run (default 10)' },
  rate: { env: 'LOADGEN_RATE', help: 'events/s, open loop; absent = closed loop at maximum throughput' },
  batch: { env: 'LOADGEN_BATCH', help: 'events per request (default 100)' },
  customers: { env: 'LOADGEN_CUSTOMERS', help: 'distinct customers (default 1000)' },
  zipf: { env: 'LOADGEN_ZIPF', help: 'Zipf exponent of the customer distribution (default 1, 0 = uniform)' },
  connections: { env: 'LOADGEN_CONNECTIONS', help: 'keep-alive connections (default 8)' },
  pipelining: { env: 'LOADGEN_PIPELINING', help: 'requests in flight per connection (default 1)' },
  concurrency: { env: 'LOADGEN_CONCURRENCY', help: 'closed loop: requests in flight (default connections x pipelining)' },
  seed: { env: 'LOADGEN_SEED', help: 'seed of the customer/quantity sequence (default random)' },
  help: { flag: true, help: 'print this help' },
} satisfies Record<string, OptionSpec>;

async function main(): Promise<void> {
  const args = parseArgs(specs);
  if (args.help || !args.key) {
    process.stdout.write(`usage: loadgen --key <ingest key> [options]\n${usage(specs)}\n`);
    process.exitCode = args.help ? 0 : 2;
    return;
  }
  const seed = args.seed === undefined ? undefined : numberOption(args, 'seed', 0, { integer: true });
  const factory = new BatchFactory({
    batchSize: numberOption(args, 'batch', 100, { min: 1, max: 10_000, integer: true }),
    customers: numberOption(args, 'customers', 1_000, { min: 1, max: 10_000_000, integer: true }),
    zipfExponent: numberOption(args, 'zipf', 1, { min: 0, max: 10 }),
    random: seed === undefined ? undefined : seededRandom(seed),
  });
  const load = new HttpLoad(
    {
      url: args.url ?? 'http://127.0.0.1:3000',
      apiKey: args.key,
      connections: numberOption(args, 'connections', 8, { min: 1, max: 1_000, integer: true }),
      pipelining: numberOption(args, 'pipelining', 1, { min: 1, max: 100, integer: true }),
    },
    factory,
  );
  const durationMs = numberOption(args, 'duration', 10, { min: 0.1 }) * 1000;
  try {
    const result =
      args.rate === undefined
        ? await load.closedLoop({
            durationMs,
            concurrency:
              args.concurrency === undefined
                ? undefined
                : numberOption(args, 'concurrency', 1, { min: 1, max: 10_000, integer: true }),
          })
        : await load.openLoop({ durationMs, eventsPerSecond: numberOption(args, 'rate', 0, { min: 1 }) });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await load.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
