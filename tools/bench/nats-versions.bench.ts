/**
 * `npm run bench:nats-versions -- --against nats://127.0.0.1:4222 [--pairs 4] [-- bench:ingest options]`:
 * Tally's ingestion ratio (`ratios.tallyToClickHouseRowBinary`, docs/benchmarks.md) on Tally's own NATS
 * server (NATS_URL, default the dev server of tools/infra) against another JetStream server, measured
 * back to back in alternating order (pair 1 starts on Tally's server, pair 2 on the other, ...) so that
 * drift of the machine over the session weighs on both. Each run is a whole `bench:ingest` (own gateway,
 * writer and stream prefix; the raw RowBinary baseline of the same run is the ratio's denominator).
 * Prints one JSON document: every run, the medians per server and the ratio of the medians.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { numberOption, parseArgs, usage, type OptionSpec } from '../loadgen';
import { testNatsUrl } from '@tally/testing';

const specs = {
  against: { env: 'BENCH_OTHER_NATS_URL', help: 'URL of the other JetStream server (e.g. the machine\'s 2.9: nats://127.0.0.1:4222)' },
  pairs: { env: 'BENCH_PAIRS', help: 'alternating pairs of runs (default 4)' },
  help: { flag: true, help: 'print this help' },
} satisfies Record<string, OptionSpec>;

interface IngestRun {
  server: 'tally' | 'other';
  natsUrl: string;
  natsVersion: string;
  ratio: number;
  sustainedEventsPerSecond: number;
  rawRowBinaryEventsPerSecond: number;
  halfRateHttpP99Ms: number;
  exactlyOnce: boolean;
  accepted: number;
  stored: number;
  otherCores?: number;
  loadavgAtStart: number[];
}

async function runIngest(server: IngestRun['server'], natsUrl: string, ingestArgs: string[]): Promise<IngestRun> {
  const root = path.join(__dirname, '..', '..');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/bench/ingest.bench.ts', ...ingestArgs], {
    cwd: root,
    env: { ...process.env, NATS_URL: natsUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`bench:ingest on ${natsUrl} exited with ${code}`);
  const r = JSON.parse(out) as {
    tally: {
      sustainedEventsPerSecond: number;
      halfRatePhase: { httpP99Ms: number };
      exactness: { exact: boolean; accepted: number; stored: number };
      maxPhase: { cpu?: { otherCores?: number } };
    };
    baselines: { clickhouseInsertRowBinary: { eventsPerSecond: number } };
    ratios: { tallyToClickHouseRowBinary: number };
    machine: { loadavgAtStart: number[] };
    natsServer: { version: string };
  };
  const exactness = r.tally.exactness;
  return {
    server,
    natsUrl,
    natsVersion: r.natsServer.version,
    ratio: r.ratios.tallyToClickHouseRowBinary,
    sustainedEventsPerSecond: r.tally.sustainedEventsPerSecond,
    rawRowBinaryEventsPerSecond: r.baselines.clickhouseInsertRowBinary.eventsPerSecond,
    halfRateHttpP99Ms: r.tally.halfRatePhase.httpP99Ms,
    exactlyOnce: exactness.exact,
    accepted: exactness.accepted,
    stored: exactness.stored,
    otherCores: r.tally.maxPhase.cpu?.otherCores,
    loadavgAtStart: r.machine.loadavgAtStart,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main(): Promise<void> {
  const separator = process.argv.indexOf('--');
  const ingestArgs = separator === -1 ? [] : process.argv.slice(separator + 1);
  if (separator !== -1) process.argv.splice(separator);
  const args = parseArgs(specs);
  if (args.help || !args.against) {
    process.stdout.write(`usage: npm run bench:nats-versions -- --against <nats url> [--pairs N] [-- bench:ingest options]\n${usage(specs)}\n`);
    if (!args.help) process.exit(2);
    return;
  }
  const pairs = numberOption(args, 'pairs', 4, { integer: true, min: 1, max: 50 });
  const servers = { tally: testNatsUrl(), other: String(args.against) };
  const runs: IngestRun[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    const order: Array<IngestRun['server']> = pair % 2 === 0 ? ['tally', 'other'] : ['other', 'tally'];
    for (const server of order) {
      process.stderr.write(`[bench:nats-versions] pair ${pair + 1}/${pairs}: ${server} (${servers[server]})\n`);
      runs.push(await runIngest(server, servers[server], ingestArgs));
    }
  }
  const summary = (server: IngestRun['server']) => {
    const mine = runs.filter((r) => r.server === server);
    return {
      natsVersion: mine[0]?.natsVersion,
      runs: mine.length,
      allExact: mine.every((r) => r.exactlyOnce),
      medianRatio: median(mine.map((r) => r.ratio)),
      medianSustainedEventsPerSecond: median(mine.map((r) => r.sustainedEventsPerSecond)),
      medianHalfRateHttpP99Ms: median(mine.map((r) => r.halfRateHttpP99Ms)),
    };
  };
  const tally = summary('tally');
  const other = summary('other');
  const result = {
    command: `npm run bench:nats-versions -- --against ${servers.other} --pairs ${pairs} -- ${ingestArgs.join(' ')}`.trim(),
    date: new Date().toISOString(),
    runs,
    servers: { tally, other },
    ratios: {
      tallyServerToOtherServer: Math.round((tally.medianRatio / other.medianRatio) * 1000) / 1000,
      wins: runs.length / 2 === pairs ? pairWins(runs) : undefined,
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/** In how many pairs Tally's server had the higher ratio. */
function pairWins(runs: IngestRun[]): { tallyServer: number; otherServer: number } {
  let tallyServer = 0;
  let otherServer = 0;
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const [a, b] = [runs[i], runs[i + 1]];
    const t = a.server === 'tally' ? a : b;
    const o = a.server === 'tally' ? b : a;
    if (t.ratio >= o.ratio) tallyServer++;
    else otherServer++;
  }
  return { tallyServer, otherServer };
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
