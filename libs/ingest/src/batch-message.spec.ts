import type { UsageEvent } from '@tally/event-schema';
import { decodeBatchMessage, encodeBatchMessage, type IngestBatchMessage } from './batch-message';
import { batchMessageId } from './gateway/event-publisher';

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

const batch = (v: 1 | 2, events: UsageEvent[]): IngestBatchMessage => ({ v, tenant: 'acme', receivedAt: 1_700_000_000_500, events });

describe('batch messages', () => {
  it('round-trips both wire encodings to the same events', () => {
    const events = [event(), event({ id: 'gen', idGenerated: true, tsGenerated: true, properties: {} })];
    for (const v of [1, 2] as const) {
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
