import { spawn } from 'node:child_process';
import path from 'node:path';

/** One whole `bench:ingest` run, as the pair benchmarks compare them. */
export interface IngestRun<Label extends string = string> {
  label: Label;
  natsUrl: string;
  natsVersion: string;
  /** `ratios.tallyToClickHouseRowBinary` of the run: its own raw RowBinary insert is the denominator. */
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

/** Runs `bench:ingest` with these arguments and environment as a child process; its JSON summarised. */
export async function runIngest<Label extends string>(
  label: Label,
  ingestArgs: string[],
  env: Record<string, string> = {},
): Promise<IngestRun<Label>> {
  const root = path.join(__dirname, '..', '..');
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'tools/bench/ingest.bench.ts', ...ingestArgs],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`bench:ingest (${label}: ${ingestArgs.join(' ')}) exited with ${code}`);
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
    natsServer: { url: string; version: string };
  };
  const exactness = r.tally.exactness;
  return {
    label,
    natsUrl: r.natsServer.url,
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

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Runs two set-ups `pairs` times back to back in alternating order (pair 1 starts with `a`, pair 2
 * with `b`, ...), so that drift of the machine over the session weighs on both. Every run, the
 * summary of each side, the ratio of their median ratios (`b` to `a`) and the pair wins.
 */
export async function runPairs<A extends string, B extends string>(
  pairs: number,
  a: { label: A; run: () => Promise<IngestRun<A>> },
  b: { label: B; run: () => Promise<IngestRun<B>> },
  log: (line: string) => void,
) {
  const runs: Array<IngestRun<A> | IngestRun<B>> = [];
  const wins = { [a.label]: 0, [b.label]: 0 } as Record<A | B, number>;
  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 === 0 ? [a, b] : [b, a];
    const mine: Partial<Record<A | B, number>> = {};
    for (const side of order) {
      log(`pair ${pair + 1}/${pairs}: ${side.label}`);
      const run = await side.run();
      runs.push(run);
      mine[side.label] = run.ratio;
    }
    wins[(mine[b.label] ?? 0) >= (mine[a.label] ?? 0) ? b.label : a.label]++;
  }
  const summary = (label: string) => {
    const mine = runs.filter((r) => r.label === label);
    return {
      natsVersion: mine[0]?.natsVersion,
      runs: mine.length,
      allExact: mine.every((r) => r.exactlyOnce),
      medianRatio: median(mine.map((r) => r.ratio)),
      medianSustainedEventsPerSecond: median(mine.map((r) => r.sustainedEventsPerSecond)),
      medianHalfRateHttpP99Ms: median(mine.map((r) => r.halfRateHttpP99Ms)),
    };
  };
  const sides = { [a.label]: summary(a.label), [b.label]: summary(b.label) } as Record<
    A | B,
    ReturnType<typeof summary>
  >;
  const ratio = Math.round((sides[b.label].medianRatio / sides[a.label].medianRatio) * 1000) / 1000;
  return { runs, sides, ratio, wins };
}

/** `process.argv` split at `--`: the pair benchmark's own options before it, `bench:ingest`'s after. */
export function splitIngestArgs(): string[] {
  const separator = process.argv.indexOf('--');
  if (separator === -1) return [];
  const ingestArgs = process.argv.slice(separator + 1);
  process.argv.splice(separator);
  return ingestArgs;
}
