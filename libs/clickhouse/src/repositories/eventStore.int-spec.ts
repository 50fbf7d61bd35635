import { createHash } from 'node:crypto';
import { decimal, join, raw, sql } from '../sql/quote';
import { createTestDatabase, type TestDatabase } from '../testing';
import { eventKey, findExistingIds, insertEvents, serializeEventRows, type EventRow } from './eventStore';

let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await db?.drop();
});

const T0 = Date.UTC(2024, 2, 31, 23, 59, 59) / 1000; // the last second of March: partitions 202403 and 202404

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function row(i: number, over: Partial<EventRow> = {}): EventRow {
  return {
    tenant: 'tenant_a',
    customer: `cust_${i % 7}`,
    eventType: 'api_call',
    ts: T0 + (i % 2),
    tsMs: i % 1000,
    eventId: `evt_${i}`,
    quantity: '1',
    properties: { region: 'eu-west-1', i: String(i) },
    source: 'http',
    schemaVersion: '1',
    requestId: `req_${Math.floor(i / 100)}`,
    receivedAt: T0 + 5,
    payloadHash: sha(`payload ${i}`),
    ...over,
  };
}

describe('insertEvents / findExistingIds on the real server', () => {
  it('stores decimal quantities exactly', async () => {
    const quantities = [
      '12.345678901234',
      '100000000000000000000000.5',
      '-0.000000000001',
      '99999999999999999999999999.999999999999',
      '0',
      '007.25',
    ];
    await insertEvents(
      db.client,
      db.database,
      quantities.map((quantity, i) => row(i, { quantity })),
    );
    const rows = await db.client.query<{ event_id: string; quantity: string; same: string }>(
      sql`SELECT event_id, quantity, multiIf(${join(quantities.flatMap((q, i) => [sql`event_id = ${`evt_${i}`}`, sql`quantity = ${decimal(q, 12)}`]))}, 0) AS same FROM ${db.client.table('events')} ORDER BY event_id`,
      { exactNumbers: true },
    );
    // The server prints all 12 decimals; compare without leading and trailing zeros.
    const trim = (q: string) => {
      const noLeading = q.replace(/^(-?)0+(?=\d)/, '$1');
      return noLeading.includes('.') ? noLeading.replace(/0+$/, '').replace(/\.$/, '') : noLeading;
    };
    expect(rows.map((r) => [r.event_id, trim(r.quantity), r.same])).toEqual(
      quantities.map((q, i) => [`evt_${i}`, trim(q), '1']),
    );
    // The sum is exact too (Decimal arithmetic, no float).
    const [sum] = await db.client.query<{ s: string }>(
      sql`SELECT sum(quantity) AS s FROM ${db.client.table('events')} WHERE event_id IN (${'evt_0'}, ${'evt_2'})`,
      { exactNumbers: true },
    );
    expect(sum.s).toBe('12.345678901233');
  });

  it('stores every string byte for byte in RowBinary: one- and two-byte lengths, Unicode, control characters', async () => {
    const strings = [
      '',
      'a'.repeat(42),
      'é'.repeat(42), // 84 bytes: the one-byte length path with multi-byte text
      '😀'.repeat(21), // 42 UTF-16 units, 84 bytes
      'x'.repeat(43), // just past the short path
      'ü'.repeat(100), // 200 bytes: a two-byte length
      'z'.repeat(20_000),
      "tab\tnl\nnul\u0000quote'bs\\",
    ];
    await insertEvents(
      db.client,
      db.database,
      strings.map((text, i) =>
        row(i, { customer: text, properties: { [text || 'empty']: text }, requestId: text }),
      ),
    );
    const rows = await db.client.query<{
      event_id: string;
      customer: string;
      request_id: string;
      v: string[];
    }>(sql`SELECT event_id, customer, request_id, properties.value AS v FROM ${db.client.table('events')}`);
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    strings.forEach((text, i) => {
      expect(byId.get(`evt_${i}`)).toEqual({
        event_id: `evt_${i}`,
        customer: text,
        request_id: text,
        v: [text],
      });
    });
  });

  it('stores times, properties and the server-side inserted_at', async () => {
    await insertEvents(db.client, db.database, [
      row(1, { properties: { 'a"b': 'x\\y', empty: '' } }),
      row(2, { properties: {} }),
    ]);
    const rows = await db.client.query<{
      event_id: string;
      ts: string;
      epoch: number;
      ts_ms: number;
      received_at: string;
      'properties.key': string[];
      'properties.value': string[];
      inserted: number;
      month: number;
    }>(
      sql`SELECT event_id, ts, toUInt32(ts) AS epoch, ts_ms, received_at, properties.key, properties.value,
                 toUInt32(inserted_at) > toUInt32(now()) - 300 AS inserted, toYYYYMM(ts) AS month
          FROM ${db.client.table('events')} ORDER BY event_id`,
    );
    expect(rows).toEqual([
      {
        event_id: 'evt_1',
        ts: '2024-04-01 00:00:00',
        epoch: T0 + 1,
        ts_ms: 1,
        received_at: '2024-04-01 00:00:04',
        'properties.key': ['a"b', 'empty'],
        'properties.value': ['x\\y', ''],
        inserted: 1,
        month: 202404,
      },
      {
        event_id: 'evt_2',
        ts: '2024-03-31 23:59:59',
        epoch: T0,
        ts_ms: 2,
        received_at: '2024-04-01 00:00:04',
        'properties.key': [],
        'properties.value': [],
        inserted: 1,
        month: 202403,
      },
    ]);
  });

  it("also accepts times as 'YYYY-MM-DD hh:mm:ss' text (read as UTC) in JSONEachRow", async () => {
    const line = JSON.parse(serializeEventRows([row(1)]));
    line.ts = '2024-03-31 23:59:59';
    line.received_at = '2024-04-01 00:00:04';
    const columns = Object.keys(line);
    // A hand-built body through the same insert path; quantity stays a bare number.
    await db.client.insertJsonEachRow(db.client.table('events'), columns, JSON.stringify(line));
    const [r] = await db.client.query<{ epoch: number; r: number }>(
      sql`SELECT toUInt32(ts) AS epoch, toUInt32(received_at) AS r FROM ${db.client.table('events')}`,
    );
    expect(r).toEqual({ epoch: T0, r: T0 + 5 });
  });

  it('fills event_ids through the materialized view in the same insert', async () => {
    await insertEvents(db.client, db.database, [row(1), row(2), row(3, { tenant: 'tenant_b' })]);
    const ids = await db.client.query<{
      tenant: string;
      event_id: string;
      payload_hash: string;
      epoch: number;
    }>(
      sql`SELECT tenant, event_id, payload_hash, toUInt32(ts) AS epoch FROM ${db.client.table('event_ids')} ORDER BY tenant, event_id`,
    );
    expect(ids).toEqual([
      { tenant: 'tenant_a', event_id: 'evt_1', payload_hash: sha('payload 1'), epoch: T0 + 1 },
      { tenant: 'tenant_a', event_id: 'evt_2', payload_hash: sha('payload 2'), epoch: T0 },
      { tenant: 'tenant_b', event_id: 'evt_3', payload_hash: sha('payload 3'), epoch: T0 + 1 },
    ]);
  });

  it('finds existing ids exactly, per tenant, with their payload hash', async () => {
    await insertEvents(db.client, db.database, [row(1), row(2), row(3, { tenant: 'tenant_b' })]);
    // A retried batch: the same ids again, one with another timestamp (another partition).
    await insertEvents(db.client, db.database, [row(1), row(2, { ts: T0 - 86_400 * 40 })]);

    const found = await findExistingIds(db.client, db.database, [
      { tenant: 'tenant_a', eventId: 'evt_1' },
      { tenant: 'tenant_a', eventId: 'evt_2' },
      { tenant: 'tenant_a', eventId: 'evt_3' }, // exists, but for tenant_b
      { tenant: 'tenant_b', eventId: 'evt_3' },
      { tenant: 'tenant_b', eventId: 'evt_404' },
      { tenant: 'tenant_a', eventId: 'evt_1' }, // asked twice
      { tenant: "tenant_a' OR 1=1 --", eventId: 'evt_1' },
    ]);
    expect(found).toEqual(
      new Map([
        [eventKey('tenant_a', 'evt_1'), sha('payload 1')],
        [eventKey('tenant_a', 'evt_2'), sha('payload 2')],
        [eventKey('tenant_b', 'evt_3'), sha('payload 3')],
      ]),
    );
    expect(await findExistingIds(db.client, db.database, [])).toEqual(new Map());
  });

  it('supports retention by dropping a monthly partition from events and event_ids (docs/clickhouse.md)', async () => {
    await insertEvents(db.client, db.database, [row(1), row(2), row(4)]); // 2024-04, 2024-03, 2024-03
    const parts = await db.client.query<{ table: string; partition: string; rows: string }>(
      sql`SELECT table, partition, toString(sum(rows)) AS rows FROM system.parts
          WHERE database = ${db.database} AND active AND table IN ('events', 'event_ids')
          GROUP BY table, partition ORDER BY table, partition`,
    );
    expect(parts).toEqual([
      { table: 'event_ids', partition: '202403', rows: '2' },
      { table: 'event_ids', partition: '202404', rows: '1' },
      { table: 'events', partition: '202403', rows: '2' },
      { table: 'events', partition: '202404', rows: '1' },
    ]);
    for (const table of ['events', 'event_ids']) {
      await db.client.command(sql`ALTER TABLE ${db.client.table(table)} DROP PARTITION ${raw('202403')}`);
    }
    const found = await findExistingIds(
      db.client,
      db.database,
      [1, 2, 4].map((i) => ({ tenant: 'tenant_a', eventId: `evt_${i}` })),
    );
    expect([...found.keys()]).toEqual([eventKey('tenant_a', 'evt_1')]);
  });

  it('looks up 5,000 keys (> 256 KiB of SQL) in one call, and 20,000 across several', async () => {
    // Realistic ids: 64-hex event ids (e.g. content hashes), UUID-like tenants.
    const tenants = ['3f1c2a9e-6b1d-4c55-9a0e-2f7d8c1b4e6a', '9b0e7d44-2c1f-4a8b-8e3d-5f6a7b8c9d0e'];
    const stored = Array.from({ length: 10_000 }, (_, i) =>
      row(i, { tenant: tenants[i % 2], eventId: sha(`id ${i}`), ts: T0 - (i % 90) * 86_400 }),
    );
    await insertEvents(db.client, db.database, stored);

    // Half of the keys exist, half do not.
    const keys = Array.from({ length: 5_000 }, (_, i) =>
      i % 2 === 0
        ? { tenant: stored[i].tenant, eventId: stored[i].eventId }
        : { tenant: tenants[i % 2], eventId: sha(`missing ${i}`) },
    );
    const timings: number[] = [];
    let found = new Map<string, string>();
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      found = await findExistingIds(db.client, db.database, keys);
      timings.push(performance.now() - started);
    }
    expect(found.size).toBe(2_500);
    expect(found.get(eventKey(stored[0].tenant, stored[0].eventId))).toBe(stored[0].payloadHash);

    const many = [
      ...stored.map((r) => ({ tenant: r.tenant, eventId: r.eventId })),
      ...keys,
      ...keys,
      ...keys,
    ].slice(0, 20_000);
    const started = performance.now();
    const foundMany = await findExistingIds(db.client, db.database, many);
    const manyMs = performance.now() - started;
    expect(foundMany.size).toBe(10_000);

    console.log(
      `findExistingIds: 5,000 keys (10,000 stored): ${timings.map((t) => t.toFixed(0)).join(', ')} ms ` +
        `(first call first); 20,000 keys (12,500 distinct, 3 queries): ${manyMs.toFixed(0)} ms`,
    );
  });

  it('inserts 100,000 rows in one call', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) =>
      row(i, {
        eventId: `evt_${i.toString(36).padStart(8, '0')}_${sha(String(i)).slice(0, 16)}`,
        quantity: `${i}.${i % 1000}`,
      }),
    );
    const t0 = performance.now();
    const body = serializeEventRows(rows);
    const t1 = performance.now();
    await insertEvents(db.client, db.database, rows);
    const t2 = performance.now();
    const [{ n, ids }] = await db.client.query<{ n: string; ids: string }>(
      sql`SELECT toString(count()) AS n, toString((SELECT count() FROM ${db.client.table('event_ids')})) AS ids FROM ${db.client.table('events')}`,
    );
    expect(n).toBe('100000');
    expect(ids).toBe('100000');
    const mb = Buffer.byteLength(body) / 1e6;
    console.log(
      `insertEvents: 100,000 rows (${mb.toFixed(1)} MB JSONEachRow) in ${(t2 - t1).toFixed(0)} ms ` +
        `(insert incl. serialization) = ${Math.round(100_000 / ((t2 - t1) / 1000))} rows/s; serialization alone ${(t1 - t0).toFixed(0)} ms`,
    );
  });
});
