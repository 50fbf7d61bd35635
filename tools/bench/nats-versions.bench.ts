/**
 * `npm run bench:nats-versions -- --against nats://127.0.0.1:4222 [--pairs 4] [-- bench:ingest options]`:
 * Tally's ingestion ratio (`ratios.tallyToClickHouseRowBinary`, docs/benchmarks.md) on Tally's own NATS
 * server (NATS_URL, default the dev server of tools/infra) against another JetStream server, measured
 * back to back in alternating order (pair 1 starts on Tally's server, pair 2 on the other, ...) so that
 * drift of the machine over the session weighs on both. Each run is a whole `bench:ingest` (own gateway,
 * writer and stream prefix; the raw RowBinary baseline of the same run is the ratio's denominator).
 * Prints one JSON document: every run, the medians per server and the ratio of the medians.
 */
import { numberOption, parseArgs, usage, type OptionSpec } from '../loadgen';
import { testNatsUrl } from '@tally/testing';
import { runIngest, runPairs, splitIngestArgs } from './ingest-pairs';

const specs = {
  against: {
    env: 'BENCH_OTHER_NATS_URL',
    help: "URL of the other JetStream server (e.g. the machine's 2.9: nats://127.0.0.1:4222)",
  },
  pairs: { env: 'BENCH_PAIRS', help: 'alternating pairs of runs (default 4)' },
  help: { flag: true, help: 'print this help' },
} satisfies Record<string, OptionSpec>;

async function main(): Promise<void> {
  const ingestArgs = splitIngestArgs();
  const args = parseArgs(specs);
  if (args.help || !args.against) {
    process.stdout.write(
      `usage: npm run bench:nats-versions -- --against <nats url> [--pairs N] [-- bench:ingest options]\n${usage(specs)}\n`,
    );
    if (!args.help) process.exit(2);
    return;
  }
  const pairs = numberOption(args, 'pairs', 4, { integer: true, min: 1, max: 50 });
  const servers = { tally: testNatsUrl(), other: String(args.against) };
  const { runs, sides, wins } = await runPairs(
    pairs,
    { label: 'tally', run: () => runIngest('tally', ingestArgs, { NATS_URL: servers.tally }) },
    { label: 'other', run: () => runIngest('other', ingestArgs, { NATS_URL: servers.other }) },
    (line) => process.stderr.write(`[bench:nats-versions] ${line}\n`),
  );
  const result = {
    command:
      `npm run bench:nats-versions -- --against ${servers.other} --pairs ${pairs} -- ${ingestArgs.join(' ')}`.trim(),
    date: new Date().toISOString(),
    runs,
    servers: sides,
    ratios: {
      // Tally's server against the other: > 1 when Tally's server gives the higher median ratio.
      tallyServerToOtherServer: Math.round((sides.tally.medianRatio / sides.other.medianRatio) * 1000) / 1000,
      wins: { tallyServer: wins.tally, otherServer: wins.other },
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
