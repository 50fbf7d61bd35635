import { createHash } from 'node:crypto';
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

/** The format spelled out as string concatenation: what the fingerprints stored so far were computed from. */
function referenceInput(e: UsageEvent): string {
  const keys = Object.keys(e.properties).sort();
  let s = `f1|${e.tsGenerated === true ? '*' : String(e.ts)}|`;
  for (const v of [e.customer, e.type, e.quantity]) s += `${v.length}:${v}`;
  s += `${keys.length}|`;
  for (const k of keys) s += `${k.length}:${k}${e.properties[k].length}:${e.properties[k]}`;
  return s;
}

describe('fingerprint input', () => {
  it('is the documented text, so fingerprints already stored stay valid', () => {
    const text = `f1|${NOW - 1000}|5:cus_19:api_calls3:2.52|5:model6:gpt-4o6:region2:eu`;
    expect(fingerprintInput(base)).toBe(text);
    expect(eventFingerprint(base)).toBe(createHash('sha1').update(text).digest('hex'));
    expect(fingerprintInput({ ...base, tsGenerated: true })).toBe(text.replace(String(NOW - 1000), '*'));
  });

  it('hashes the UTF-8 of the reference text for any strings and timestamps (fast-check)', () => {
    const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    // Any code points, and any UTF-16 code units (lone surrogates included).
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.string({ unit: codeUnit, maxLength: 12 }),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 4_291_747_199_999 }), fc.double(), fc.constant(-0)),
        fc.boolean(),
        text,
        text,
        text,
        fc.dictionary(text, text, { maxKeys: 20 }),
        (ts, tsGenerated, customer, type, quantity, properties) => {
          const e = { ...base, ts, tsGenerated, customer, type, quantity, properties };
          const reference = referenceInput(e);
          return (
            eventFingerprint(e) === createHash('sha1').update(reference).digest('hex') &&
            fingerprintInput(e) === Buffer.from(reference).toString()
          );
        },
      ),
      { numRuns: 2000 },
    );
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
