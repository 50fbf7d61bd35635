import { normalizeDataPoints, type DataPointStorageRow } from '@tally/analytics-engine';
import type { DeadLetter, DeadLetterSink } from '@tally/ingest-protocol';
import type { InboundMessage } from '../writer/batch-writer';
import { findExistingPointIdsSql } from '@tally/clickhouse';
import { chunkPointKeys } from './clickhouse-point-store';
import {
  decodePointsMessage,
  encodePointsMessage,
  fromWirePoint,
  splitPointsToFit,
  toWirePoint,
  type PointsBatchMessage,
} from './points-message';
import { PointsBatchWriter, pointKey, type PointKey, type PointStore } from './points-writer';

const NOW = Date.UTC(2026, 0, 5, 10);

class MemoryStore implements PointStore {
  readonly rows = new Map<string, DataPointStorageRow>();
  failNextInsert = false;
  async findExisting(keys: readonly PointKey[]) {
    return new Set(keys.map(pointKey).filter((k) => this.rows.has(k)));
  }
  async insert(rows: DataPointStorageRow[]) {
    if (this.failNextInsert) {
      this.failNextInsert = false;
      throw new Error('connection refused');
    }
    for (const row of rows) {
      const key = pointKey({ tenant: row.tenant, dataset: row.dataset, pointId: row.point_id });
      if (this.rows.has(key)) throw new Error(`test invariant: ${key} inserted twice`);
      this.rows.set(key, row);
    }
  }
}

class MemoryDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async publish(letters: DeadLetter[]) {
    this.letters.push(...letters);
  }
}

function batch(tenant: string, dataset: string, points: unknown[]): PointsBatchMessage {
  const rows = normalizeDataPoints(points, { dataset, nowMs: NOW, generateId: () => 'generated' });
  return { v: 1, tenant, dataset, receivedAt: NOW, points: rows.map(toWirePoint) };
}

let seq = 0;
const message = (
  m: PointsBatchMessage | Uint8Array,
  deliveryCount = 1,
  subjectTenant = m instanceof Uint8Array ? undefined : m.tenant,
): InboundMessage => ({
  data: m instanceof Uint8Array ? m : encodePointsMessage(m),
  streamSeq: ++seq,
  deliveryCount,
  publishedAt: NOW + 1,
  subjectTenant,
});

describe('data points on the stream', () => {
  it('round-trips a row compactly: trailing empty blobs and zero doubles are left out', () => {
    const [row] = normalizeDataPoints(
      [{ id: 'p', indexes: ['c'], blobs: ['a', null, 'b'], doubles: [0, 2.5] }],
      {
        dataset: 'd',
        nowMs: NOW,
        generateId: () => 'x',
      },
    );
    const wire = toWirePoint({ ...row, sampleInterval: 4 });
    expect(wire).toEqual({ id: 'p', ts: NOW, index1: 'c', blobs: ['a', '', 'b'], doubles: [0, 2.5], si: 4 });
    expect(fromWirePoint(wire)).toEqual({ ...row, sampleInterval: 4 });
    expect(JSON.stringify(wire).length).toBeLessThan(90);
  });

  it('decodes only well-formed batches, naming the tenant when it can', () => {
    const good = batch('acme', 'calls', [{ id: 'a' }]);
    expect(decodePointsMessage(encodePointsMessage(good))).toEqual({ ok: true, message: good });
    expect(decodePointsMessage(Buffer.from('nope'))).toEqual({ ok: false, reason: 'payload is not JSON' });
    const bad = (m: unknown) => decodePointsMessage(Buffer.from(JSON.stringify(m)));
    expect(bad({ ...good, dataset: 'a.b' })).toMatchObject({ ok: false, tenant: 'acme' });
    expect(bad({ ...good, points: [{ ...good.points[0], si: 0 }] })).toMatchObject({
      ok: false,
      tenant: 'acme',
    });
    expect(bad({ ...good, points: [{ ...good.points[0], blobs: [1] }] })).toMatchObject({ ok: false });
    expect(bad({ ...good, v: 2 })).toEqual({ ok: false, reason: expect.any(String) });
  });

  it('splits a batch that does not fit the server payload limit', () => {
    const big = batch(
      'acme',
      'calls',
      Array.from({ length: 250 }, (_, i) => ({ id: `p${i}`, blobs: ['x'.repeat(16_000)] })),
    );
    const parts = splitPointsToFit(big, 1024 * 1024);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.byteLength <= 1024 * 1024 - 4096)).toBe(true);
    const ids = parts.flatMap((p) => {
      const decoded = decodePointsMessage(p);
      return decoded.ok ? decoded.message.points.map((x) => x.id) : [];
    });
    expect(ids).toEqual(big.points.map((p) => p.id));
  });
});

describe('PointsBatchWriter', () => {
  it('stores each point id of a dataset once across redelivery, retried requests and repeats in a batch', async () => {
    const store = new MemoryStore();
    const writer = new PointsBatchWriter(store, new MemoryDeadLetters());
    const first = [
      message(batch('acme', 'calls', [{ id: 'a' }, { id: 'b' }, { id: 'a' }])),
      message(batch('acme', 'other', [{ id: 'a' }])),
      message(batch('globex', 'calls', [{ id: 'a' }])),
    ];
    expect(await writer.write(first)).toMatchObject({ inserted: 4, duplicates: 1, deadLettered: 0 });
    // A crash between insert and ack: JetStream delivers the same messages again.
    expect(await writer.write(first.map((m) => ({ ...m, deliveryCount: 2 })))).toMatchObject({
      inserted: 0,
      duplicates: 5,
    });
    // The same point sent again in another request (another message, another timestamp).
    const again = batch('acme', 'calls', [{ id: 'b', timestamp: NOW - 60_000 }, { id: 'c' }]);
    expect(await writer.write([message(again)])).toMatchObject({ inserted: 1, duplicates: 1 });
    expect([...store.rows.keys()].sort()).toEqual(
      [
        ['acme', 'calls', 'a'],
        ['acme', 'calls', 'b'],
        ['acme', 'calls', 'c'],
        ['acme', 'other', 'a'],
        ['globex', 'calls', 'a'],
      ].map(([tenant, dataset, pointId]) => pointKey({ tenant, dataset, pointId })),
    );
  });

  it('writes the storage rows of @tally/analytics-engine, sample interval included', async () => {
    const store = new MemoryStore();
    const m = batch('acme', 'calls', [
      { id: 'a', indexes: ['c1'], blobs: ['/x'], doubles: [3], timestamp: NOW - 1500 },
    ]);
    m.points[0].si = 8;
    await new PointsBatchWriter(store, new MemoryDeadLetters()).write([message(m)]);
    const [row] = store.rows.values();
    expect(row).toMatchObject({
      tenant: 'acme',
      dataset: 'calls',
      point_id: 'a',
      index1: 'c1',
      blob1: '/x',
      blob2: '',
      double1: 3,
      double20: 0,
      _sample_interval: 8,
      timestamp: '2026-01-05 09:59:58',
    });
  });

  it('takes the tenant from the subject: points whose message names another tenant are dead-lettered', async () => {
    const store = new MemoryStore();
    const dead = new MemoryDeadLetters();
    const writer = new PointsBatchWriter(store, dead);
    const forged = message(batch('victim', 'calls', [{ id: 'a' }]), 1, 'mallory');
    expect(await writer.write([forged, message(batch('mallory', 'calls', [{ id: 'b' }]))])).toMatchObject({
      inserted: 1,
      deadLettered: 1,
    });
    expect([...store.rows.keys()]).toEqual([pointKey({ tenant: 'mallory', dataset: 'calls', pointId: 'b' })]);
    expect(dead.letters[0]).toMatchObject({ reason: 'TENANT_MISMATCH', tenant: 'mallory', streamSeq: forged.streamSeq });
  });

  it('dead-letters what does not decode, and a failed insert stores nothing until the retry', async () => {
    const store = new MemoryStore();
    const dead = new MemoryDeadLetters();
    const writer = new PointsBatchWriter(store, dead, undefined, () => 42);
    const garbage = message(Buffer.from('not json'), 3);
    const good = message(batch('acme', 'calls', [{ id: 'a' }]));
    store.failNextInsert = true;
    await expect(writer.write([garbage, good])).rejects.toThrow('connection refused');
    expect(dead.letters).toHaveLength(0);
    expect(await writer.write([garbage, good])).toMatchObject({ inserted: 1, deadLettered: 1 });
    expect(dead.letters[0]).toMatchObject({
      reason: 'UNDECODABLE',
      tenant: '_unknown',
      rawPayload: Buffer.from('not json').toString('base64'),
      deadLetteredAt: 42,
      deliveryCount: 3,
    });
  });
});

describe('point id lookup SQL', () => {
  it('is exactly this, one group per tenant and dataset, chunked', () => {
    const keys = [
      { tenant: 'acme', dataset: 'calls', pointId: "it's" },
      { tenant: 'acme', dataset: 'calls', pointId: 'b' },
      { tenant: 'acme', dataset: 'calls', pointId: 'b' },
      { tenant: 'globex', dataset: 'calls', pointId: 'a' },
    ];
    const [chunk] = chunkPointKeys(keys);
    expect(findExistingPointIdsSql('tally', chunk).text).toBe(
      "SELECT tenant, dataset, point_id FROM `tally`.`datapoint_ids` WHERE (tenant = 'acme' AND dataset = 'calls' AND point_id IN (SELECT arrayJoin(['it\\'s', 'b']))) OR (tenant = 'globex' AND dataset = 'calls' AND point_id IN (SELECT arrayJoin(['a']))) GROUP BY tenant, dataset, point_id",
    );
    expect(chunkPointKeys(keys, 2).map((c) => c.map((g) => g.ids))).toEqual([[["it's", 'b']], [['a']]]);
  });
});
