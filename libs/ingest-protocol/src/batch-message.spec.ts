import type { UsageEvent } from '@tally/event-schema';
import { EVENT_FLAG_BITS, EVENT_TUPLE_FIELDS, eventFingerprint } from '@tally/event-schema';
import { decodeBatchMessage, encodeBatchMessage, readEncodedBatch, type IngestBatchMessage } from './batch-message';
import { batchMessageId } from './batch-message-id';

const event = (over: Partial<UsageEvent> = {}): UsageEvent => ({
  id: 'e-1',
  idGenerated: false,
  ts: 1_700_000_000_123,
  tsGenerated: false,
  customer: 'cus_1',
  type: 'api_calls',
  quantity: '12.5',
  properties: { region: 'eu', 'odd "key"': 'line\nbreak' },
  source: 'svc',
  schemaVersion: '1',
  requestId: 'r-1',
  ...over,
});

const batch = (v: 1 | 2 | 3, events: UsageEvent[]): IngestBatchMessage => ({ v, tenant: 'acme', receivedAt: 1_700_000_000_500, events });

describe('batch messages', () => {
  it('round-trips every wire encoding to the same events', () => {
    const events = [
      event(),
      event({ id: 'gen', idGenerated: true, tsGenerated: true, properties: {} }),
      event({ id: 'big', quantity: '-99999999999999999999999999.000000000001', customer: 'ü😀'.repeat(30) }),
    ];
    for (const v of [1, 2, 3] as const) {
      const decoded = decodeBatchMessage(encodeBatchMessage(batch(v, events)));
      expect(decoded).toEqual({ ok: true, message: batch(v, events) });
    }
  });

  it('encodes events as tuples in encoding 2, at about half the size of objects', () => {
    const events = Array.from({ length: 100 }, (_, i) => event({ id: `e-${i}` }));
    const v1 = encodeBatchMessage(batch(1, events));
    const v2 = encodeBatchMessage(batch(2, events));
    expect(JSON.parse(Buffer.from(v2).toString()).events[0]).toEqual([
      'e-0', 1_700_000_000_123, 'cus_1', 'api_calls', '12.5', { region: 'eu', 'odd "key"': 'line\nbreak' }, 'svc', '1', 'r-1', 0,
    ]);
    expect(v2.byteLength).toBeLessThan(v1.byteLength * 0.65);
  });

  it('lays out an encoding-2 tuple as EVENT_TUPLE_FIELDS then the EVENT_FLAG_BITS, and reads it back by the same order', () => {
    const e = event({ idGenerated: true, tsGenerated: true });
    const [tuple] = JSON.parse(Buffer.from(encodeBatchMessage(batch(2, [e]))).toString()).events;
    expect(tuple).toEqual([...EVENT_TUPLE_FIELDS.map((field) => e[field]), EVENT_FLAG_BITS.idGenerated | EVENT_FLAG_BITS.tsGenerated]);
    // A tuple built from the definition decodes to the event.
    const built = [...EVENT_TUPLE_FIELDS.map((field) => e[field]), EVENT_FLAG_BITS.tsGenerated];
    const decoded = decodeBatchMessage(Buffer.from(JSON.stringify({ v: 2, tenant: 'acme', receivedAt: 1, events: [built] })));
    expect(decoded).toEqual({ ok: true, message: { v: 2, tenant: 'acme', receivedAt: 1, events: [{ ...e, idGenerated: false }] } });
  });

  it('carries each event in encoding 3 with its fingerprint and its encoded columns, read in place', () => {
    const events = Array.from({ length: 100 }, (_, i) => event({ id: `e-${i}`, quantity: `${i}.25` }));
    const v2 = encodeBatchMessage(batch(2, events));
    const v3 = encodeBatchMessage(batch(3, events));
    expect(v3[0]).toBe(3);
    // The fingerprint (40 bytes) and fixed-width numbers make it a little larger than encoding 2.
    expect(v3.byteLength).toBeLessThan(v2.byteLength * 1.25);
    const read = readEncodedBatch(v3);
    if (!read.ok) throw new Error(read.reason);
    expect(read.batch).toMatchObject({ tenant: 'acme', receivedAt: 1_700_000_000_500 });
    expect(read.batch.events[7]).toMatchObject({ id: 'e-7', tenant: 'acme', customer: 'cus_1', ts: 1_700_000_000_123, fingerprint: eventFingerprint(events[7]) });
    // JSON encodings are read as the same events and fingerprints.
    const fromJson = readEncodedBatch(v2);
    if (!fromJson.ok) throw new Error(fromJson.reason);
    expect(fromJson.batch.events.map((e) => [e.id, e.fingerprint])).toEqual(read.batch.events.map((e) => [e.id, e.fingerprint]));
  });

  it('refuses a corrupt binary batch wherever it is cut or altered', () => {
    const v3 = Buffer.from(encodeBatchMessage(batch(3, [event(), event({ id: 'e-2' })])));
    for (let cut = 1; cut < v3.byteLength; cut++) {
      expect(readEncodedBatch(v3.subarray(0, cut))).toMatchObject({ ok: false });
    }
    expect(readEncodedBatch(Buffer.concat([v3, Buffer.from([0])]))).toEqual({ ok: false, reason: 'bytes follow the last event of the batch' });
    const badLength = Buffer.from(v3);
    const firstLength = 1 + 1 + 4 + 8 + 1 + 1 + 1 + 40; // magic, tenant, receivedAt, count, flags, fingerprint
    badLength.writeUInt32LE(badLength.readUInt32LE(firstLength) + 1, firstLength);
    expect(readEncodedBatch(badLength)).toMatchObject({ ok: false, reason: expect.stringContaining('event 0') });
  });

  it('dead-letters rather than retries a JSON batch whose event cannot be stored', () => {
    const json = encodeBatchMessage(batch(1, [event({ quantity: '1.0000000000001' })]));
    expect(readEncodedBatch(json)).toMatchObject({ ok: false, reason: expect.stringContaining('quantity') });
  });

  it('refuses what is not a batch, naming the bad event', () => {
    const raw = (value: unknown) => decodeBatchMessage(Buffer.from(JSON.stringify(value)));
    expect(decodeBatchMessage(Buffer.from('{'))).toEqual({ ok: false, reason: 'payload is not JSON' });
    expect(raw({ v: 3, tenant: 'acme', receivedAt: 1, events: [] })).toMatchObject({ ok: false });
    expect(raw({ v: 2, tenant: 'acme', receivedAt: 1, events: [['e', 1, 'c', 't', '1', {}, 's', '1', 'r', 0], ['e', '1']] })).toEqual({
      ok: false,
      reason: expect.stringContaining('event 1 of the batch is not an event tuple'),
    });
    expect(raw({ v: 2, tenant: 'acme', receivedAt: 1, events: [['e', 1, 'c', 't', 1, {}, 's', '1', 'r', 0]] })).toMatchObject({ ok: false });
    expect(raw({ v: 2, tenant: 'acme', receivedAt: 1, events: [['e', 1, 'c', 't', '1', null, 's', '1', 'r', 0]] })).toMatchObject({ ok: false });
  });
});

describe('batchMessageId', () => {
  it('is the same for a retried request and differs when any event differs', () => {
    const events = [event(), event({ id: 'e-2', quantity: '3' })];
    const id = batchMessageId(batch(2, events));
    expect(id).toMatch(/^acme:[A-Za-z0-9_-]{43}$/);
    // A retry: receipt time and the receipt-time timestamps differ, the meaning does not.
    const retried = events.map((e) => ({ ...e }));
    expect(batchMessageId({ ...batch(2, retried), receivedAt: 9 })).toBe(id);
    const untimed = [event({ tsGenerated: true, ts: 1 })];
    expect(batchMessageId(batch(2, [{ ...untimed[0], ts: 2 }]))).toBe(batchMessageId(batch(2, untimed)));

    expect(batchMessageId(batch(2, [events[0], { ...events[1], quantity: '4' }]))).not.toBe(id);
    expect(batchMessageId(batch(2, [events[1], events[0]]))).not.toBe(id);
    expect(batchMessageId({ ...batch(2, events), tenant: 'globex' })).not.toBe(id);
    // Separators inside values cannot make two batches alike.
    const a = [event({ id: 'x', customer: 'a\nx\u0000b' })];
    const b = [event({ id: 'x', customer: 'a' }), event({ id: 'x', customer: 'b' })];
    expect(batchMessageId(batch(2, a))).not.toBe(batchMessageId(batch(2, b)));
  });
});
