/**
 * `npm run bench:writers -- [--writers 2] [--gateways 1] [--partitions N] [--pairs 3] [-- bench:ingest options]`:
 * what partition ownership costs. Tally's ingestion ratio (`ratios.tallyToClickHouseRowBinary`: the
 * end-to-end rate against a raw RowBinary insert of the same events in the same run) with several
 * writers (and gateways) against the default single writer, one gateway and one partition, measured
 * back to back in alternating order. On one machine both share the same cores, so this shows that
 * ownership (leases, fencing, partition subjects) costs little, not that cores scale: the target is a
 * scaled median ratio at least 90 % of the single one, every run exact. Prints one JSON document.
 */
import { numberOption, parseArgs, usage, type OptionSpec } from '../loadgen';
import { runIngest, runPairs, splitIngestArgs } from './ingest-pairs';

const specs = {
  writers: { env: 'BENCH_WRITERS', help: 'writers of the scaled set-up (default 2)' },
  gateways: { env: 'BENCH_GATEWAYS', help: 'gateways of the scaled set-up (default 1)' },
  partitions: {
    env: 'BENCH_PARTITIONS',
    help: 'partitions of the scaled set-up (default: the number of writers)',
  },
  pairs: { env: 'BENCH_PAIRS', help: 'alternating pairs of runs (default 3)' },
  help: { flag: true, help: 'print this help' },
} satisfies Record<string, OptionSpec>;

const TARGET = 0.9;

async function main(): Promise<void> {
  const ingestArgs = splitIngestArgs();
  const args = parseArgs(specs);
  if (args.help) {
    process.stdout.write(
      `usage: npm run bench:writers -- [options] [-- bench:ingest options]\n${usage(specs)}\n`,
    );
    return;
  }
  const int = { integer: true, min: 1, max: 16 };
  const writers = numberOption(args, 'writers', 2, int);
  const gateways = numberOption(args, 'gateways', 1, int);
  const partitions = numberOption(args, 'partitions', writers, { integer: true, min: writers, max: 1_024 });
  const pairs = numberOption(args, 'pairs', 3, { integer: true, min: 1, max: 50 });
  const scaledArgs = [
    '--writers',
    String(writers),
    '--gateways',
    String(gateways),
    '--partitions',
    String(partitions),
  ];
  const { runs, sides, ratio, wins } = await runPairs(
    pairs,
    {
      label: 'single',
      run: () =>
        runIngest('single', [...ingestArgs, '--writers', '1', '--gateways', '1', '--partitions', '1']),
    },
    { label: 'scaled', run: () => runIngest('scaled', [...ingestArgs, ...scaledArgs]) },
    (line) => process.stderr.write(`[bench:writers] ${line}\n`),
  );
  const result = {
    command:
      `npm run bench:writers -- ${scaledArgs.join(' ')} --pairs ${pairs} -- ${ingestArgs.join(' ')}`.trim(),
    date: new Date().toISOString(),
    topologies: {
      single: { writers: 1, gateways: 1, partitions: 1 },
      scaled: { writers, gateways, partitions },
    },
    runs,
    sides,
    ratios: { scaledToSingle: ratio, wins },
    targets: {
      scaledToSingle: { value: ratio, target: `>= ${TARGET}`, met: ratio >= TARGET },
      exactlyOnce: { met: sides.single.allExact && sides.scaled.allExact },
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
