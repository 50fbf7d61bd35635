import fc from 'fast-check';
import { eventFingerprint, findDuplicateIdsInBatch, fingerprintInput } from './fingerprint';
import { normalizeBatch } from './normalize';
import type { UsageEvent } from './types';

const NOW = Date.parse('2024-05-01T12:00:00Z');

const base: UsageEvent = {
  id: 'evt_1',
  idGenerated: false,
  ts: NOW - 1000,
  tsGenerated: false,
  customer: 'cus_1',
  type: 'api_calls',
  quantity: '2.5',
  properties: { region: 'eu', model: 'gpt-4o' },
  source: 'sdk',
  schemaVersion: '1',
  requestId: 'req_1',
};

describe('eventFingerprint', () => {
  it('is a 40-character hex SHA-1, stable across calls', () => {
    expect(eventFingerprint(base)).toMatch(/^[0-9a-f]{40}$/);
    expect(eventFingerprint(base)).toBe(eventFingerprint({ ...base }));
  });

  it('does not depend on property order, id, id generation, source or request metadata', () => {
    const fp = eventFingerprint(base);
    expect(eventFingerprint({ ...base, properties: { model: 'gpt-4o', region: 'eu' } })).toBe(fp);
    expect(
      eventFingerprint({
        ...base,
        id: 'other',
        idGenerated: true,
        source: 'x',
        schemaVersion: '2',
        requestId: 'r',
      }),
    ).toBe(fp);
  });

  it('is independent of property order for any properties (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 40 }),
        (props) => {
          const reversed = Object.fromEntries(Object.entries(props).reverse());
          return (
            eventFingerprint({ ...base, properties: props }) ===
            eventFingerprint({ ...base, properties: reversed })
          );
        },
      ),
    );
  });

  it('changes with every payload field that matters', () => {
    const fp = eventFingerprint(base);
    const variants: Partial<UsageEvent>[] = [
      { ts: base.ts + 1 },
      { customer: 'cus_2' },
      { type: 'api_call' },
      { quantity: '2.6' },
      { properties: { region: 'eu', model: 'gpt-4' } },
      { properties: { region: 'eu' } },
      { properties: { region: 'eu', model: 'gpt-4o', extra: '' } },
    ];
    for (const v of variants) expect(eventFingerprint({ ...base, ...v })).not.toBe(fp);
  });

  it('cannot be fooled by moving characters between fields', () => {
    const a = { ...base, customer: 'ab', type: 'c', properties: { k: 'v1' } };
    const b = { ...base, customer: 'a', type: 'bc', properties: { k: 'v1' } };
    const c = { ...base, properties: { k: 'v', k1: '' } };
    const d = { ...base, properties: { k: 'v1' } };
    expect(fingerprintInput(a)).not.toBe(fingerprintInput(b));
    expect(fingerprintInput(c)).not.toBe(fingerprintInput(d));
  });

  it('is equal for a retry of the same request, whether or not the id or timestamp was sent', () => {
    const body = [
      {
        customerId: 'c',
        metricName: 'm',
        quantity: '1.50',
        timestamp: '2024-05-01T11:59:00Z',
        dimensions: { a: 1, b: 'x' },
      },
      { eventId: 'k1', customerId: 'c', metricName: 'm', quantity: 3 }, // no timestamp: receipt time differs on retry
    ];
    const first = normalizeBatch(body, 'auto', { nowMs: NOW }).events;
    const retry = normalizeBatch(
      [{ ...body[0], quantity: 1.5, dimensions: { b: 'x', a: '1' } }, body[1]],
      'auto',
      { nowMs: NOW + 30_000 },
    ).events;
    expect(first[0].id).not.toBe(retry[0].id); // generated ids differ
    expect(first[1].ts).not.toBe(retry[1].ts);
    expect(retry.map(eventFingerprint)).toEqual(first.map(eventFingerprint));
  });

  it('treats a sent timestamp and a receipt time as different payloads', () => {
    expect(eventFingerprint({ ...base, tsGenerated: true })).not.toBe(eventFingerprint(base));
  });
});

describe('findDuplicateIdsInBatch', () => {
  it('returns the indexes of repeated ids after their first occurrence', () => {
    const ids = ['a', 'b', 'a', 'c', 'b', 'a'].map((id) => ({ id }));
    expect(findDuplicateIdsInBatch(ids)).toEqual([2, 4, 5]);
    expect(findDuplicateIdsInBatch([{ id: 'a' }])).toEqual([]);
    expect(findDuplicateIdsInBatch([])).toEqual([]);
  });
});
