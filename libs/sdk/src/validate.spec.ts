import { TallyValidationError } from './errors';
import type { UsageEventInput } from './types';
import { assertDatasetName, toTallyDataPoint, toTallyEvent } from './validate';

const NOW = 1_700_000_000_000;
const id = () => 'generated-id';
const base: UsageEventInput = { customerId: 'acme', metricName: 'api_calls' };

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof TallyValidationError) return `${e.code} ${e.field}`;
    throw e;
  }
  return undefined;
}

describe('toTallyEvent', () => {
  it('fixes the id and the timestamp, and leaves out what was not given', () => {
    expect(toTallyEvent(base, NOW, id)).toEqual({
      eventId: 'generated-id',
      timestamp: NOW,
      customerId: 'acme',
      metricName: 'api_calls',
    });
    expect(toTallyEvent({ ...base, timestamp: new Date(NOW - 5) }, NOW, id).timestamp).toBe(NOW - 5);
    expect(toTallyEvent({ ...base, quantity: 0 }, NOW, id).quantity).toBe(0);
    expect(toTallyEvent({ ...base, quantity: '-0.0' }, NOW, id).quantity).toBe('-0.0');
  });

  it.each<[string, Partial<Record<keyof UsageEventInput, unknown>>, string]>([
    ['no customer', { customerId: undefined }, 'CUSTOMER_MISSING customerId'],
    ['an empty customer', { customerId: '' }, 'CUSTOMER_MISSING customerId'],
    ['a numeric customer', { customerId: 42 }, 'CUSTOMER_INVALID customerId'],
    ['no metric', { metricName: undefined }, 'EVENT_TYPE_MISSING metricName'],
    ['an id with a space', { eventId: 'a b' }, 'ID_INVALID eventId'],
    ['an id too long', { eventId: 'x'.repeat(129) }, 'ID_INVALID eventId'],
    ['a NaN quantity', { quantity: NaN }, 'QUANTITY_INVALID quantity'],
    ['a negative quantity', { quantity: -1 }, 'QUANTITY_NEGATIVE quantity'],
    ['a negative string quantity', { quantity: '-2.5' }, 'QUANTITY_NEGATIVE quantity'],
    ['a non-decimal string quantity', { quantity: '12 units' }, 'QUANTITY_INVALID quantity'],
    ['an unsafe integer quantity', { quantity: 2 ** 60 }, 'QUANTITY_OUT_OF_RANGE quantity'],
    ['a fractional epoch', { timestamp: 1.5 }, 'TIMESTAMP_INVALID timestamp'],
    ['an invalid Date', { timestamp: new Date('nope') }, 'TIMESTAMP_INVALID timestamp'],
    ['microseconds', { timestamp: NOW * 1000 }, 'TIMESTAMP_INVALID timestamp'],
    ['nested dimensions', { dimensions: { a: { b: 1 } } }, 'PROPERTY_VALUE_INVALID dimensions.a'],
    ['a bad dimension key', { dimensions: { 'a b': 'x' } }, 'PROPERTY_KEY_INVALID dimensions.a b'],
    ['dimensions as an array', { dimensions: ['x'] }, 'PROPERTIES_INVALID dimensions'],
    ['numeric metadata', { metadata: { source: 1 } }, 'METADATA_INVALID metadata.source'],
  ])('refuses %s', (_what, patch, expected) => {
    expect(codeOf(() => toTallyEvent({ ...base, ...patch } as UsageEventInput, NOW, id))).toBe(expected);
  });

  it('copies dimensions and metadata instead of keeping the caller’s objects', () => {
    const dimensions = { region: 'eu', size: 3, cached: false };
    const event = toTallyEvent({ ...base, dimensions }, NOW, id);
    expect(event.dimensions).toEqual(dimensions);
    expect(event.dimensions).not.toBe(dimensions);
  });
});

describe('toTallyDataPoint', () => {
  it('adds an id and the write time to the Analytics Engine fields', () => {
    expect(toTallyDataPoint({ indexes: ['acme'], blobs: ['/x'], doubles: [1] }, NOW, id)).toEqual({
      id: 'generated-id',
      timestamp: NOW,
      indexes: ['acme'],
      blobs: ['/x'],
      doubles: [1],
    });
    expect(toTallyDataPoint(undefined, NOW, id)).toMatchObject({ indexes: [], blobs: [], doubles: [] });
  });

  it("takes blobs as an object's values in written order, as Cloudflare's first example writes them", () => {
    const customer_id = 'cus_1';
    const request_endpoint = '/v1/x';
    expect(toTallyDataPoint({ indexes: [customer_id], blobs: { customer_id, request_endpoint } }, NOW, id)).toMatchObject({
      blobs: ['cus_1', '/v1/x'],
    });
    expect(codeOf(() => toTallyDataPoint({ blobs: { b: 'x', 1: 'y' } }, NOW, id))).toBe('BLOBS_INVALID blobs');
    expect(codeOf(() => toTallyDataPoint({ blobs: new ArrayBuffer(1) as never }, NOW, id))).toBe('BLOBS_INVALID blobs');
  });

  it.each<[string, unknown, string]>([
    ['two indexes', { indexes: ['a', 'b'] }, 'INDEXES_INVALID indexes'],
    ['an index over 96 bytes', { indexes: ['é'.repeat(49)] }, 'INDEXES_INVALID indexes'],
    ['21 blobs', { blobs: Array(21).fill('b') }, 'BLOBS_INVALID blobs'],
    ['blobs over 16 KiB', { blobs: ['x'.repeat(16_385)] }, 'BLOBS_INVALID blobs'],
    ['an ArrayBuffer blob', { blobs: [new ArrayBuffer(1)] }, 'BLOBS_INVALID blobs'],
    ['a NaN double', { doubles: [NaN] }, 'DOUBLES_INVALID doubles'],
    ['21 doubles', { doubles: Array(21).fill(1) }, 'DOUBLES_INVALID doubles'],
  ])('refuses %s', (_what, point, expected) => {
    expect(codeOf(() => toTallyDataPoint(point as never, NOW, id))).toBe(expected);
  });
});

describe('assertDatasetName', () => {
  it.each(['usage_indexed_by_customer_id', 'a-b', '0'])('accepts %p', (name) => {
    expect(() => assertDatasetName(name)).not.toThrow();
  });
  it.each(['', 'a.b', 'a*', 'a b', 'x'.repeat(129), 'a/b'])('refuses %p', (name) => {
    expect(codeOf(() => assertDatasetName(name))).toBe('DATASET_INVALID dataset');
  });
});
