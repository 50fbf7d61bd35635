import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultIngestBenchOptions, runIngestBench } from './ingest-bench';

describe('bench:ingest (real gateway, writer, NATS and ClickHouse; seconds, not minutes)', () => {
  const profileDir = mkdtempSync(path.join(os.tmpdir(), 'tally-bench-'));
  afterAll(() => rmSync(profileDir, { recursive: true, force: true }));

  it('measures both phases, stores exactly what was accepted, runs the baselines and profiles', async () => {
    const r = await runIngestBench({
      ...defaultIngestBenchOptions,
      durationS: 3,
      halfDurationS: 2,
      warmupS: 0.5,
      connections: 4,
      probeIntervalMs: 100,
      baselineJetStreamS: 0.5,
      baselineClickHouseRows: 20_000,
      profileDir,
    });

    expect(r.tally.exactness).toMatchObject({ exact: true, lost: 0, duplicates: 0 });
    expect(r.tally.exactness.stored).toBe(r.tally.exactness.accepted);
    expect(r.tally.sustainedEventsPerSecond).toBeGreaterThan(0);
    const max = r.tally.maxPhase;
    const half = r.tally.halfRatePhase;
    expect(max.load).toMatchObject({ mode: 'closed-loop', failures: {}, ambiguous: 0 });
    expect(max.load.eventsAccepted).toBeGreaterThan(0);
    expect(half.load).toMatchObject({ mode: 'open-loop', failures: {}, ambiguous: 0, skipped: 0 });
    expect(half.load.targetEventsPerSecond).toBe(
      Math.max(100, Math.round(r.tally.sustainedEventsPerSecond / 2)),
    );
    for (const phase of [max, half]) {
      expect(phase.receiptToQueryable.count).toBeGreaterThan(0);
      expect(phase.receiptToQueryable.unresolved).toBe(0);
      expect(phase.load.latency.p99Ms).toBeGreaterThan(0);
      expect(phase.cpu.cores.gateway).toBeGreaterThan(0);
    }
    expect(r.tally.peakRssMb.writer).toBeGreaterThan(50);
    expect(r.tally.peakRssMb.gateway).toBeGreaterThan(50);
    expect(r.tally.profiles?.gateway?.topFunctions.length).toBeGreaterThan(0);
    expect(r.tally.profiles?.writer?.topFunctions.length).toBeGreaterThan(0);

    expect(r.baselines.jetstreamPublish.eventsPerSecond).toBeGreaterThan(0);
    expect(r.baselines.clickhouseInsert).toMatchObject({ events: 20_000 });
    expect(r.ratios.tallyToJetStream).toBeGreaterThan(0);
    expect(r.ratios.tallyToClickHouse).toBeGreaterThan(0);
    expect(Object.keys(r.targets).sort()).toEqual([
      'exactlyOnce',
      'halfRateHttpP99Ms',
      'receiptToQueryableP99Ms',
      'sustainedEventsPerSecond',
      'writerPeakRssMb',
    ]);
    expect(r.targets.exactlyOnce.met).toBe(true);
    expect(r.machine.cores).toBeGreaterThan(0);
    expect(r.machine.loadavg).toHaveLength(3);
  });

  it('runs two gateways and two writers on four partitions, each writer storing a share, exactly once', async () => {
    const r = await runIngestBench({
      ...defaultIngestBenchOptions,
      durationS: 3,
      halfDurationS: 2,
      warmupS: 0.5,
      connections: 4,
      baselineJetStreamS: 0.5,
      baselineClickHouseRows: 20_000,
      gateways: 2,
      writers: 2,
      partitions: 4,
    });
    expect(r.topology).toEqual({ gateways: 2, writers: 2, partitions: 4 });
    expect(r.tally.exactness).toMatchObject({ exact: true, lost: 0, duplicates: 0 });
    expect(r.tally.maxPhase.load).toMatchObject({ failures: {}, ambiguous: 0 });
    // The writers split the partitions between them: both stored events, together every accepted one.
    expect(r.tally.insertedByWriter).toHaveLength(2);
    for (const inserted of r.tally.insertedByWriter) expect(inserted).toBeGreaterThan(0);
    expect(r.tally.insertedByWriter.reduce((a, b) => a + b, 0)).toBe(r.tally.exactness.stored);
    expect(r.ratios.tallyToClickHouseRowBinary).toBeGreaterThan(0);
  });
});
