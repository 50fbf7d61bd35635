import { createHash } from 'node:crypto';
import { fingerprintInput, type UsageEvent } from '@tally/event-schema';
import { decodeBatchMessage } from './batch-message';
import { batchMessageId, splitToFit } from './batch-message-id';

const event = (i: number, extra: Partial<UsageEvent> = {}): UsageEvent => ({
  id: `evt_${i}`,
  idGenerated: false,
  ts: 1_714_564_800_000 + i,
  tsGenerated: false,
  customer: `cus_${i % 7}`,
  type: 'api_calls',
  quantity: '2.5',
  properties: { region: 'eu-west-1', model: 'größer 😀' },
  source: '',
  schemaVersion: '1',
  requestId: '',
  ...extra,
});

/** The id as the text it was first defined by: a retry straddling an upgrade must keep its id. */
function referenceId(tenant: string, events: UsageEvent[]): string {
  const text = events.map((e) => `${e.id}\0${fingerprintInput(e)}\n`).join('');
  return `${tenant}:${createHash('sha256').update(text).digest('base64url')}`;
}

describe('batchMessageId', () => {
  it('is the digest of every event id and fingerprint input', () => {
    const events = [
      event(1),
      event(2, { tsGenerated: true, properties: {} }),
      event(3, { customer: 'a\uD800b' }),
    ];
    const batch = { v: 3 as const, tenant: 'acme', receivedAt: 0, events };
    expect(batchMessageId(batch)).toBe(referenceId('acme', events));
    expect(batchMessageId({ ...batch, receivedAt: 1 })).toBe(batchMessageId(batch));
    expect(batchMessageId({ ...batch, events: [event(1), event(2)] })).not.toBe(batchMessageId(batch));
  });

  it('handles batches larger than its buffer, and smaller ones after them', () => {
    const big = Array.from({ length: 1_000 }, (_, i) => event(i, { properties: { note: 'x'.repeat(500) } }));
    expect(batchMessageId({ v: 3, tenant: 't', receivedAt: 0, events: big })).toBe(referenceId('t', big));
    const small = [event(1)];
    expect(batchMessageId({ v: 3, tenant: 't', receivedAt: 0, events: small })).toBe(referenceId('t', small));
  });
});

describe('splitToFit', () => {
  it('keeps a batch that fits whole, and halves one that does not until every part fits, in order', () => {
    const events = Array.from({ length: 64 }, (_, i) => event(i, { properties: { note: 'x'.repeat(400) } }));
    const batch = { v: 3 as const, tenant: 't', receivedAt: 5, events };
    expect(splitToFit(batch, 1 << 20)).toHaveLength(1);
    const parts = splitToFit(batch, 4096 + 8_000);
    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) expect(part.byteLength).toBeLessThanOrEqual(8_000);
    const decoded = parts.flatMap((part) => {
      const result = decodeBatchMessage(part);
      if (!result.ok) throw new Error(result.reason);
      return result.message.events.map((e) => e.id);
    });
    expect(decoded).toEqual(events.map((e) => e.id));
    // A single event is never split, whatever its size.
    expect(splitToFit({ ...batch, events: events.slice(0, 1) }, 4096 + 10)).toHaveLength(1);
  });
});
