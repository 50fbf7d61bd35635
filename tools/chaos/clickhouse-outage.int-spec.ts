import { runClickHouseOutage } from './clickhouse-outage';

/**
 * The must-show, small: ClickHouse cut for the writer while events keep coming at a fixed rate,
 * with a small events stream (3 MiB) so that it fills within the test.
 */
describe('ClickHouse outage under load (real gateway, writer, NATS, ClickHouse)', () => {
  it('202 while the stream has room, STREAM_FULL only at max_bytes, bounded writer, then every accepted event once', async () => {
    const eventsMaxBytes = 3 * 1024 ** 2;
    const writerMaxBatchBytes = 128 * 1024;
    const report = await runClickHouseOutage({
      rate: 3_000,
      durationS: 24,
      outageStartS: 2,
      outageS: 18,
      batch: 100,
      eventsMaxBytes,
      writerMaxBatchBytes,
      concurrency: 16,
      drainTimeoutS: 120,
      log: (line) => process.stderr.write(`[chaos] ${line}\n`),
    });
    const { samples, ...summary } = report;
    process.stderr.write(`${JSON.stringify(summary)}\n`);
    expect(samples.length).toBeGreaterThan(0);

    // Back-pressure: the stream filled, and only then did the gateway refuse, with STREAM_FULL.
    expect(report.requests.streamFull).toBeGreaterThan(0);
    expect(report.non202BeforeFull).toBe(0);
    expect(report.requests.other).toEqual({});
    expect(report.firstStreamFull?.fractionOfMaxBytes).toBeGreaterThan(0.8);

    // The backlog stayed in JetStream: the writer held at most a few of its batches' worth of messages.
    const avgMessageBytes = report.backlog.maxStreamBytes / Math.max(1, report.backlog.maxStreamMessages);
    expect(report.backlog.maxWriterAckPending * avgMessageBytes).toBeLessThanOrEqual(3 * writerMaxBatchBytes + 2 * avgMessageBytes);
    expect(report.backlog.maxWriterAckPending).toBeLessThan(report.backlog.maxStreamMessages / 4);
    expect(report.memory.writerRssMbMaxDuringOutage - report.memory.writerRssMbAtOutageStart).toBeLessThan(64);

    // Exactly once: every acknowledged event stored once, nothing of a refused request.
    expect(report.stored.rows).toBe(report.stored.acceptedEvents);
    expect(report.stored.distinctIds).toBe(report.stored.acceptedEvents);
    expect(report.stored.refusedFound).toBe(0);
    expect(report.exactlyOnce).toBe(true);
  }, 300_000);
});
