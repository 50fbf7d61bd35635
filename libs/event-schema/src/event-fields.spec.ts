import fc from 'fast-check';
import {
  EVENT_FIELD_COLUMNS,
  EVENT_FIELDS,
  EVENT_FLAG_BITS,
  EVENT_TUPLE_FIELDS,
  FINGERPRINT_FIELDS,
  type StoredEventField,
} from './event-fields';
import { eventFingerprint, fingerprintInput } from './fingerprint';
import type { UsageEvent } from './types';

const event: UsageEvent = {
  id: 'evt_1',
  idGenerated: false,
  ts: 1_714_564_799_000,
  tsGenerated: false,
  customer: 'cus_1',
  type: 'api_calls',
  quantity: '2.5',
  properties: { region: 'eu', model: 'gpt-4o' },
  source: 'sdk',
  schemaVersion: '1',
  requestId: 'req_1',
};

/** The fingerprint input as the definition describes it, one field after the other in FINGERPRINT_FIELDS order. */
function inputFromDefinition(e: UsageEvent): string {
  const prefixed = (s: string): string => `${s.length}:${s}`;
  const piece = (field: StoredEventField): string => {
    switch (field) {
      case 'ts':
        return `${e.tsGenerated === true ? '*' : String(e.ts)}|`;
      case 'properties': {
        const keys = Object.keys(e.properties).sort();
        return `${keys.length}|` + keys.map((k) => prefixed(k) + prefixed(e.properties[k])).join('');
      }
      default:
        return prefixed(e[field]);
    }
  };
  return 'f1|' + FINGERPRINT_FIELDS.map(piece).join('');
}

describe('EVENT_FIELDS', () => {
  it('names every field of UsageEvent once: the stored ones, then the flags', () => {
    const stored = EVENT_FIELDS.map((f) => f.field);
    expect(new Set(stored).size).toBe(stored.length);
    expect([...stored, ...Object.keys(EVENT_FLAG_BITS)].sort()).toEqual(Object.keys(event).sort());
  });

  it('gives the events columns customer .. request_id in their stored order', () => {
    expect(EVENT_FIELD_COLUMNS).toEqual([
      'customer',
      'event_type',
      'ts',
      'ts_ms',
      'event_id',
      'quantity',
      'properties.key',
      'properties.value',
      'source',
      'schema_version',
      'request_id',
    ]);
  });

  it('orders the encoding-2 tuple and the fingerprint by positions without gaps', () => {
    expect(EVENT_FIELDS.map((f) => f.tuple).sort((a, b) => a - b)).toEqual(EVENT_FIELDS.map((_, i) => i));
    expect(EVENT_TUPLE_FIELDS).toEqual(['id', 'ts', 'customer', 'type', 'quantity', 'properties', 'source', 'schemaVersion', 'requestId']);
    expect(FINGERPRINT_FIELDS).toEqual(['ts', 'customer', 'type', 'quantity', 'properties']);
    expect(Object.values(EVENT_FLAG_BITS)).toEqual([1, 2]);
  });
});

describe('the fingerprint input against EVENT_FIELDS', () => {
  it('writes exactly the FINGERPRINT_FIELDS, in their order (fast-check)', () => {
    const text = fc.string({ maxLength: 8 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_291_747_199_999 }),
        fc.boolean(),
        text,
        text,
        text,
        fc.dictionary(text, text, { maxKeys: 6 }),
        (ts, tsGenerated, customer, type, quantity, properties) => {
          const e = { ...event, ts, tsGenerated, customer, type, quantity, properties };
          return fingerprintInput(e) === inputFromDefinition(e);
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each(EVENT_FIELDS.map((f) => [f.field, 'fingerprint' in f] as const))(
    'changes with %s exactly when the definition says the fingerprint covers it (%s)',
    (field, covered) => {
      const changed: Record<StoredEventField, unknown> = {
        id: 'evt_2',
        ts: event.ts + 1,
        customer: 'cus_2',
        type: 'api_calls_2',
        quantity: '3',
        properties: { region: 'us' },
        source: 'other',
        schemaVersion: '2',
        requestId: 'req_2',
      };
      const other = { ...event, [field]: changed[field] };
      expect(eventFingerprint(other) !== eventFingerprint(event)).toBe(covered);
    },
  );
});
