/**
 * ClickHouse outage under load (docs/operations.md#chaos-clickhouse-outage):
 *
 *   node -r @swc-node/register tools/chaos/cli.ts --rate 5000 --duration 600 --outage-start 30 --outage 540
 *
 * Starts its own gateway and writer (compiled from this checkout) on a fresh NATS prefix and ClickHouse
 * database against NATS_URL and CLICKHOUSE_URL, cuts ClickHouse for the writer, and prints one JSON
 * report (without the per-second samples unless --samples). Exit code 1 when an acknowledged event
 * was lost or stored twice, or a 503 came before the stream was full.
 */
import { parseArgs } from 'node:util';
import { defaultOutageOptions, runClickHouseOutage } from './clickhouse-outage';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      'outage-start': { type: 'string' },
      outage: { type: 'string' },
      batch: { type: 'string' },
      'max-bytes': { type: 'string' },
      'writer-batch-bytes': { type: 'string' },
      samples: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: chaos [--rate ev/s (5000)] [--duration s (600)] [--outage-start s (30)] [--outage s (540)]\n' +
        '             [--batch events/request (100)] [--max-bytes events stream max_bytes (268435456)]\n' +
        '             [--writer-batch-bytes (8388608)] [--samples]\n',
    );
    return;
  }
  const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
  const d = defaultOutageOptions;
  const durationS = num(values.duration, d.durationS);
  const outageStartS = num(values['outage-start'], Math.min(d.outageStartS, durationS / 10));
  const report = await runClickHouseOutage({
    rate: num(values.rate, d.rate),
    durationS,
    outageStartS,
    outageS: num(values.outage, durationS - outageStartS - Math.min(30, durationS / 10)),
    batch: num(values.batch, d.batch),
    eventsMaxBytes: num(values['max-bytes'], d.eventsMaxBytes),
    writerMaxBatchBytes: num(values['writer-batch-bytes'], d.writerMaxBatchBytes),
    log: (line) => process.stderr.write(`[chaos] ${line}\n`),
  });
  const { samples, ...rest } = report;
  process.stdout.write(`${JSON.stringify(values.samples ? report : rest, null, 2)}\n`);
  if (!report.exactlyOnce || report.non202BeforeFull > 0) process.exitCode = 1;
  void samples;
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exitCode = 1;
});
