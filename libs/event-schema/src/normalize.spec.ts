import { type FieldIssue, ValidationFailedError } from '@tally/errors';
import { EventIssueCode } from './codes';
import { detectFormat, formatForContentType, normalizeBatch } from './normalize';
import type { EventFormat, NormalizeOptions } from './types';

const NOW = Date.parse('2023-10-01T12:03:00.000Z');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

function opts(extra: Partial<NormalizeOptions> = {}): NormalizeOptions {
  let n = 0;
  return { nowMs: NOW, generateId: () => `gen-${++n}`, ...extra };
}

/** The issues a body is rejected with (fails the test if it is accepted). */
function issuesOf(
  body: unknown,
  format: EventFormat | 'auto' = 'auto',
  o: NormalizeOptions = opts(),
): FieldIssue[] {
  try {
    normalizeBatch(body, format, o);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationFailedError);
    const err = e as ValidationFailedError;
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.httpStatus).toBe(422);
    return err.details;
  }
  throw new Error('expected the body to be rejected');
}

const okNative = { customerId: 'cus_1', metricName: 'api_calls' };

describe('native format', () => {
  it('normalises a complete event', () => {
    const { events } = normalizeBatch(
      {
        eventId: 'evt_1',
        timestamp: '2023-10-01T12:00:00.250Z',
        customerId: 'cus_42',
        metricName: 'tokens',
        quantity: 1500,
        dimensions: { model: 'gpt-4o', region: 'eu', cached: false, ratio: 0.25, skipped: null },
        metadata: { source: 'sdk-node', version: '2', requestId: 'req_9' },
        productId: 'prod_ai',
        somethingNew: { ignored: true },
      },
      'native',
      opts(),
    );
    expect(events).toEqual([
      {
        id: 'evt_1',
        idGenerated: false,
        ts: Date.parse('2023-10-01T12:00:00.250Z'),
        tsGenerated: false,
        customer: 'cus_42',
        type: 'tokens',
        quantity: '1500',
        properties: { model: 'gpt-4o', region: 'eu', cached: 'false', ratio: '0.25', product_id: 'prod_ai' },
        source: 'sdk-node',
        schemaVersion: '2',
        requestId: 'req_9',
      },
    ]);
  });

  it('fills defaults: generated id, receipt time, quantity 1, no properties', () => {
    const { events } = normalizeBatch({ customerId: 'cus_1', metricName: 'api_calls' }, 'auto', opts());
    expect(events).toEqual([
      {
        id: 'gen-1',
        idGenerated: true,
        ts: NOW,
        tsGenerated: true,
        customer: 'cus_1',
        type: 'api_calls',
        quantity: '1',
        properties: {},
        source: '',
        schemaVersion: '1',
        requestId: '',
      },
    ]);
  });

  it('generates UUIDv7 ids by default', () => {
    const { events } = normalizeBatch([okNative, okNative], 'auto', { nowMs: NOW });
    expect(events[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(events[0].id).not.toBe(events[1].id);
  });

  it('accepts the snake_case aliases and idempotency key aliases', () => {
    const body = [
      { event_id: 'a', customer_id: 'c', metric_name: 'm', timestamp: 1696161600000, quantity: '2.50' },
      { idempotencyKey: 'b', customerId: 'c', metricName: 'm', timestamp: '1696161600000' },
      { idempotency_key: 'c', customerId: 'c', metricName: 'm' },
    ];
    const { events } = normalizeBatch(body, 'native', opts());
    expect(events.map((e) => [e.id, e.idGenerated, e.customer, e.type, e.ts, e.quantity])).toEqual([
      ['a', false, 'c', 'm', 1696161600000, '2.5'],
      ['b', false, 'c', 'm', 1696161600000, '1'],
      ['c', false, 'c', 'm', NOW, '1'],
    ]);
  });

  it('treats null optional fields as absent', () => {
    const { events } = normalizeBatch(
      { ...okNative, eventId: null, timestamp: null, dimensions: null, metadata: null, productId: null },
      'native',
      opts(),
    );
    expect(events[0]).toMatchObject({ id: 'gen-1', idGenerated: true, ts: NOW, properties: {} });
  });
});

describe('Billingrails format', () => {
  it('normalises the documented example verbatim', () => {
    const body = JSON.parse(`{
      "event_name": "Song played",
      "properties": {
        "song_id": "12345",
        "artist": "The Beatles",
        "duration": 240,
        "billingrails_account_id": "acct_67890"
      },
      "idempotency_key": "unique_event_id_12345",
      "timestamp": "2023-10-01T12:00:00Z"
    }`);
    expect(detectFormat(body)).toBe('billingrails');
    expect(normalizeBatch(body, 'auto', opts())).toEqual({
      events: [
        {
          id: 'unique_event_id_12345',
          idGenerated: false,
          ts: Date.parse('2023-10-01T12:00:00Z'),
          tsGenerated: false,
          customer: 'acct_67890',
          type: 'Song played',
          quantity: '1',
          properties: { song_id: '12345', artist: 'The Beatles', duration: '240' },
          source: 'billingrails',
          schemaVersion: '1',
          requestId: '',
        },
      ],
    });
  });

  it('reads the customer from the configured property', () => {
    const { events } = normalizeBatch(
      { event_name: 'x', properties: { account: 'acct_1', billingrails_account_id: 'other' } },
      'billingrails',
      opts({ billingrailsCustomerProperty: 'account' }),
    );
    expect(events[0]).toMatchObject({
      customer: 'acct_1',
      id: 'gen-1',
      idGenerated: true,
      ts: NOW,
      properties: { billingrails_account_id: 'other' },
    });
  });
});

describe('CloudEvents format', () => {
  const ce = {
    specversion: '1.0',
    id: 'ce-1',
    source: '/player/eu-1',
    type: 'song.played',
    subject: 'acct_67890',
    time: '2023-10-01T13:59:59.5+02:00',
    datacontenttype: 'application/json',
    data: { quantity: '3.000', song_id: '12345', duration: 240, live: true, note: null },
    traceparent: '00-abc-def-01',
  };

  it('normalises a structured CloudEvent', () => {
    expect(normalizeBatch(ce, 'auto', opts())).toEqual({
      events: [
        {
          id: 'ce-1',
          idGenerated: false,
          ts: Date.parse('2023-10-01T11:59:59.500Z'),
          tsGenerated: false,
          customer: 'acct_67890',
          type: 'song.played',
          quantity: '3',
          properties: { song_id: '12345', duration: '240', live: 'true' },
          source: '/player/eu-1',
          schemaVersion: '1.0',
          requestId: '',
        },
      ],
    });
  });

  it('defaults time and quantity, and accepts a batch array', () => {
    const { events } = normalizeBatch(
      [
        { specversion: '1.0', id: 'a', source: 's', type: 't', subject: 'c' },
        { specversion: '1.0', id: 'b', source: 's', type: 't', subject: 'c', data: { quantity: 0.5 } },
      ],
      formatForContentType('application/cloudevents-batch+json'),
      opts(),
    );
    expect(events.map((e) => [e.id, e.ts, e.tsGenerated, e.quantity])).toEqual([
      ['a', NOW, true, '1'],
      ['b', NOW, true, '0.5'],
    ]);
  });

  it('is forced by the CloudEvents content types', () => {
    expect(formatForContentType('application/cloudevents+json')).toBe('cloudevents');
    expect(formatForContentType('Application/CloudEvents-Batch+JSON; charset=utf-8')).toBe('cloudevents');
    expect(formatForContentType('application/json')).toBe('auto');
    expect(formatForContentType(undefined)).toBe('auto');
    expect(detectFormat({ event_name: 'x' }, 'application/cloudevents+json')).toBe('cloudevents');
    expect(detectFormat({ event_name: 'x' }, 'application/json')).toBe('billingrails');
    expect(detectFormat({ specversion: '1.0' })).toBe('cloudevents');
    expect(detectFormat({ customerId: 'x' })).toBe('native');
    expect(detectFormat(42)).toBe('native');
    // forced: an event without specversion is reported, not read as native
    expect(
      issuesOf(okNative, formatForContentType('application/cloudevents+json')).map((i) => i.code),
    ).toContain('SPECVERSION_UNSUPPORTED');
  });
});

describe('body shapes', () => {
  it('accepts an object, an array and an {"events": [...]} envelope, with mixed formats under auto', () => {
    const single = normalizeBatch(okNative, 'auto', opts()).events;
    const array = normalizeBatch([okNative], 'auto', opts()).events;
    const envelope = normalizeBatch({ events: [okNative] }, 'auto', opts()).events;
    expect(single).toEqual(array);
    expect(envelope).toEqual(array);
    const mixed = normalizeBatch(
      {
        events: [
          okNative,
          { event_name: 'b', properties: { billingrails_account_id: 'c' } },
          { specversion: '1.0', id: 'x', source: 's', type: 'c', subject: 'c' },
        ],
      },
      'auto',
      opts(),
    ).events;
    expect(mixed.map((e) => e.source)).toEqual(['', 'billingrails', 's']);
  });

  it('keeps duplicate idempotency keys inside one batch', () => {
    const { events } = normalizeBatch(
      [
        { ...okNative, eventId: 'same' },
        { ...okNative, eventId: 'same', quantity: 2 },
      ],
      'auto',
      opts(),
    );
    expect(events.map((e) => [e.id, e.quantity])).toEqual([
      ['same', '1'],
      ['same', '2'],
    ]);
  });

  it('requires opts.nowMs', () => {
    expect(() => normalizeBatch(okNative, 'auto', { nowMs: NaN })).toThrow(TypeError);
  });
});

describe('timestamp window', () => {
  it('accepts exactly maxFutureMs ahead and exactly latenessLimitMs behind', () => {
    const o = opts({ maxFutureMs: 5 * MIN, latenessLimitMs: 35 * DAY });
    const { events } = normalizeBatch(
      [
        { ...okNative, timestamp: NOW + 5 * MIN },
        { ...okNative, timestamp: NOW - 35 * DAY },
      ],
      'auto',
      o,
    );
    expect(events.map((e) => e.ts)).toEqual([NOW + 5 * MIN, NOW - 35 * DAY]);
  });

  it('uses the tenant lateness limit', () => {
    const body = { ...okNative, timestamp: NOW - 2 * DAY };
    expect(issuesOf(body, 'auto', opts({ latenessLimitMs: DAY }))[0].code).toBe('TIMESTAMP_TOO_OLD');
    expect(normalizeBatch(body, 'auto', opts({ latenessLimitMs: 3 * DAY })).events).toHaveLength(1);
  });
});

/** [description, body, format, options, expected issues] — every issue code with its index and field. */
type Case = [
  string,
  unknown,
  EventFormat | 'auto',
  Partial<NormalizeOptions>,
  FieldIssue[] | Partial<FieldIssue>[],
];
const ce = { specversion: '1.0', id: 'ce-1', source: '/s', type: 't', subject: 'c' };
const br = { event_name: 'e', properties: { billingrails_account_id: 'acct' } };
const longKey = 'k'.repeat(129);
const cases: Case[] = [
  ['a string body', '"hello"', 'auto', {}, [{ field: '', code: 'BODY_INVALID' }]],
  ['a null body', null, 'auto', {}, [{ field: '', code: 'BODY_INVALID' }]],
  ['events not an array', { events: { a: 1 } }, 'auto', {}, [{ field: 'events', code: 'BODY_INVALID' }]],
  ['an empty array', [], 'auto', {}, [{ field: 'events', code: 'BATCH_EMPTY' }]],
  ['an empty envelope', { events: [] }, 'auto', {}, [{ field: 'events', code: 'BATCH_EMPTY' }]],
  [
    'too many events',
    [okNative, okNative, okNative],
    'auto',
    { maxBatch: 2 },
    [{ field: 'events', code: 'BATCH_TOO_LARGE' }],
  ],
  [
    'a non-object event',
    [okNative, 7, [okNative]],
    'auto',
    {},
    [
      { index: 1, field: '', code: 'EVENT_INVALID' },
      { index: 2, field: '', code: 'EVENT_INVALID' },
    ],
  ],
  [
    'a CloudEvent without id',
    [ce, { ...ce, id: undefined }],
    'auto',
    {},
    [{ index: 1, field: 'id', code: 'ID_MISSING' }],
  ],
  [
    'an id with a space',
    { ...okNative, eventId: 'a b' },
    'auto',
    {},
    [{ index: 0, field: 'eventId', code: 'ID_INVALID' }],
  ],
  [
    'an empty id',
    { ...okNative, event_id: '' },
    'auto',
    {},
    [{ index: 0, field: 'event_id', code: 'ID_INVALID' }],
  ],
  [
    'a numeric id',
    { ...br, idempotency_key: 5 },
    'auto',
    {},
    [{ index: 0, field: 'idempotency_key', code: 'ID_INVALID' }],
  ],
  [
    'a 129-character id',
    { ...okNative, idempotencyKey: 'x'.repeat(129) },
    'auto',
    {},
    [{ index: 0, field: 'idempotencyKey', code: 'ID_INVALID' }],
  ],
  [
    'an unparseable timestamp',
    { ...okNative, timestamp: 'yesterday' },
    'auto',
    {},
    [{ index: 0, field: 'timestamp', code: 'TIMESTAMP_INVALID' }],
  ],
  [
    'a fractional epoch',
    { ...okNative, timestamp: 1696161600000.5 },
    'auto',
    {},
    [{ index: 0, field: 'timestamp', code: 'TIMESTAMP_INVALID' }],
  ],
  [
    'a timestamp without offset',
    { ...okNative, timestamp: '2023-10-01T12:00:00' },
    'auto',
    {},
    [{ index: 0, field: 'timestamp', code: 'TIMESTAMP_INVALID' }],
  ],
  [
    'a timestamp after 2105',
    { ...okNative, timestamp: '2106-01-01T00:00:00Z' },
    'auto',
    {},
    [{ index: 0, field: 'timestamp', code: 'TIMESTAMP_INVALID' }],
  ],
  [
    'a timestamp before 1970',
    { ...okNative, timestamp: '1969-12-31T23:59:59Z' },
    'auto',
    { latenessLimitMs: 1e15 },
    [{ index: 0, field: 'timestamp', code: 'TIMESTAMP_INVALID' }],
  ],
  [
    'epoch microseconds',
    { ...okNative, timestamp: 1696161600000000 },
    'auto',
    {},
    [{ index: 0, field: 'timestamp', code: 'TIMESTAMP_INVALID' }],
  ],
  [
    'a CloudEvent time in epoch ms',
    { ...ce, time: 1696161600000 },
    'auto',
    {},
    [{ index: 0, field: 'time', code: 'TIMESTAMP_INVALID' }],
  ],
  [
    'a timestamp too far ahead',
    { ...okNative, timestamp: NOW + 5 * MIN + 1 },
    'auto',
    {},
    [{ index: 0, field: 'timestamp', code: 'TIMESTAMP_IN_FUTURE' }],
  ],
  [
    'a timestamp beyond the lateness limit',
    { ...okNative, timestamp: NOW - 35 * DAY - 1 },
    'auto',
    {},
    [{ index: 0, field: 'timestamp', code: 'TIMESTAMP_TOO_OLD' }],
  ],
  [
    'epoch seconds',
    { ...okNative, timestamp: 1696161600 },
    'auto',
    {},
    [{ index: 0, field: 'timestamp', code: 'TIMESTAMP_TOO_OLD' }],
  ],
  [
    'a boolean quantity',
    { ...okNative, quantity: true },
    'auto',
    {},
    [{ index: 0, field: 'quantity', code: 'QUANTITY_INVALID' }],
  ],
  [
    'a null quantity',
    { ...okNative, quantity: null },
    'auto',
    {},
    [{ index: 0, field: 'quantity', code: 'QUANTITY_INVALID' }],
  ],
  [
    'a text quantity in data',
    { ...ce, data: { quantity: 'ten' } },
    'auto',
    {},
    [{ index: 0, field: 'data.quantity', code: 'QUANTITY_INVALID' }],
  ],
  [
    '13 fractional digits',
    { ...okNative, quantity: '0.0000000000001' },
    'auto',
    {},
    [{ index: 0, field: 'quantity', code: 'QUANTITY_OUT_OF_RANGE' }],
  ],
  [
    '27 integer digits',
    { ...okNative, quantity: '1'.repeat(27) },
    'auto',
    {},
    [{ index: 0, field: 'quantity', code: 'QUANTITY_OUT_OF_RANGE' }],
  ],
  [
    'an imprecise JSON number',
    { ...okNative, quantity: 2 ** 60 },
    'auto',
    {},
    [{ index: 0, field: 'quantity', code: 'QUANTITY_OUT_OF_RANGE' }],
  ],
  [
    'a negative quantity',
    { ...okNative, quantity: -1 },
    'auto',
    {},
    [{ index: 0, field: 'quantity', code: 'QUANTITY_NEGATIVE' }],
  ],
  [
    'no customer',
    { metricName: 'm' },
    'auto',
    {},
    [{ index: 0, field: 'customerId', code: 'CUSTOMER_MISSING' }],
  ],
  [
    'an empty customer',
    { ...okNative, customerId: '' },
    'auto',
    {},
    [{ index: 0, field: 'customerId', code: 'CUSTOMER_MISSING' }],
  ],
  [
    'a Billingrails event without the customer property',
    { event_name: 'e', properties: { a: 1 } },
    'auto',
    {},
    [{ index: 0, field: 'properties.billingrails_account_id', code: 'CUSTOMER_MISSING' }],
  ],
  [
    'a Billingrails event without properties',
    { event_name: 'e' },
    'auto',
    {},
    [{ index: 0, field: 'properties.billingrails_account_id', code: 'CUSTOMER_MISSING' }],
  ],
  [
    'a CloudEvent without subject',
    { ...ce, subject: undefined },
    'auto',
    {},
    [{ index: 0, field: 'subject', code: 'CUSTOMER_MISSING' }],
  ],
  [
    'a numeric customer',
    { ...okNative, customerId: 42 },
    'auto',
    {},
    [{ index: 0, field: 'customerId', code: 'CUSTOMER_INVALID' }],
  ],
  [
    'a 257-character customer',
    { ...okNative, customer_id: undefined, customerId: 'c'.repeat(257) },
    'auto',
    {},
    [{ index: 0, field: 'customerId', code: 'CUSTOMER_INVALID' }],
  ],
  [
    'no metric name',
    { customerId: 'c' },
    'auto',
    {},
    [{ index: 0, field: 'metricName', code: 'EVENT_TYPE_MISSING' }],
  ],
  [
    'no event_name when forced to Billingrails',
    { properties: { billingrails_account_id: 'a' } },
    'billingrails',
    {},
    [{ index: 0, field: 'event_name', code: 'EVENT_TYPE_MISSING' }],
  ],
  [
    'no CloudEvent type',
    { ...ce, type: undefined },
    'auto',
    {},
    [{ index: 0, field: 'type', code: 'EVENT_TYPE_MISSING' }],
  ],
  [
    'a 129-character type',
    { customerId: 'c', metric_name: 't'.repeat(129) },
    'auto',
    {},
    [{ index: 0, field: 'metric_name', code: 'EVENT_TYPE_INVALID' }],
  ],
  [
    'a non-string type',
    { customerId: 'c', metricName: ['a'] },
    'auto',
    {},
    [{ index: 0, field: 'metricName', code: 'EVENT_TYPE_INVALID' }],
  ],
  [
    'NUL in the customer',
    { ...okNative, customerId: 'a\u0000b' },
    'auto',
    {},
    [{ index: 0, field: 'customerId', code: 'INVALID_CHARACTER' }],
  ],
  [
    'NUL in the id',
    { ...okNative, eventId: 'a\u0000b' },
    'auto',
    {},
    [{ index: 0, field: 'eventId', code: 'INVALID_CHARACTER' }],
  ],
  [
    'NUL in a property value',
    { ...okNative, dimensions: { a: 'x\u0000' } },
    'auto',
    {},
    [{ index: 0, field: 'dimensions.a', code: 'INVALID_CHARACTER' }],
  ],
  [
    'NUL in a property key',
    { ...okNative, dimensions: { 'a\u0000': 'x' } },
    'auto',
    {},
    [{ index: 0, field: 'dimensions.a\u0000', code: 'INVALID_CHARACTER' }],
  ],
  [
    'a lone surrogate in the type',
    { ...okNative, metricName: 'a\uD800b' },
    'auto',
    {},
    [{ index: 0, field: 'metricName', code: 'INVALID_CHARACTER' }],
  ],
  [
    'NUL in metadata',
    { ...okNative, metadata: { requestId: '\u0000' } },
    'auto',
    {},
    [{ index: 0, field: 'metadata.requestId', code: 'INVALID_CHARACTER' }],
  ],
  [
    'dimensions as an array',
    { ...okNative, dimensions: ['a'] },
    'auto',
    {},
    [{ index: 0, field: 'dimensions', code: 'PROPERTIES_INVALID' }],
  ],
  [
    'Billingrails properties as a string',
    { event_name: 'e', properties: 'acct' },
    'auto',
    {},
    [{ index: 0, field: 'properties', code: 'PROPERTIES_INVALID' }],
  ],
  [
    'bad property keys',
    {
      ...okNative,
      dimensions: JSON.parse(`{"1a":"x","a b":"x","${longKey}":"x","__proto__":"x","ok.key-1":"x"}`),
    },
    'auto',
    {},
    [
      { index: 0, field: 'dimensions.1a', code: 'PROPERTY_KEY_INVALID' },
      { index: 0, field: 'dimensions.a b', code: 'PROPERTY_KEY_INVALID' },
      { index: 0, field: 'dimensions.' + longKey, code: 'PROPERTY_KEY_INVALID' },
      { index: 0, field: 'dimensions.__proto__', code: 'PROPERTY_KEY_INVALID' },
    ],
  ],
  [
    'bad property values',
    {
      ...okNative,
      dimensions: { o: { a: 1 }, l: [1], s: 'v'.repeat(4097), n: 2 ** 60, fine: 'v'.repeat(4096) },
    },
    'auto',
    {},
    [
      { index: 0, field: 'dimensions.o', code: 'PROPERTY_VALUE_INVALID' },
      { index: 0, field: 'dimensions.l', code: 'PROPERTY_VALUE_INVALID' },
      { index: 0, field: 'dimensions.s', code: 'PROPERTY_VALUE_INVALID' },
      { index: 0, field: 'dimensions.n', code: 'PROPERTY_VALUE_INVALID' },
    ],
  ],
  [
    'a nested Billingrails property',
    { ...br, properties: { ...br.properties, tags: ['a'] } },
    'auto',
    {},
    [{ index: 0, field: 'properties.tags', code: 'PROPERTY_VALUE_INVALID' }],
  ],
  [
    'an object productId',
    { ...okNative, productId: { id: 1 } },
    'auto',
    {},
    [{ index: 0, field: 'productId', code: 'PROPERTY_VALUE_INVALID' }],
  ],
  [
    '101 dimensions',
    { ...okNative, dimensions: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`d${i}`, 'x'])) },
    'auto',
    {},
    [{ index: 0, field: 'dimensions', code: 'TOO_MANY_PROPERTIES' }],
  ],
  [
    'too many dimensions, some of them invalid: the count alone is reported, after earlier issues',
    {
      ...okNative,
      customerId: 5,
      dimensions: Object.fromEntries(
        Array.from({ length: 101 }, (_, i) => [
          i % 10 ? `d${i}` : `bad key ${i}`,
          i % 7 ? 'x' : { nested: true },
        ]),
      ),
    },
    'auto',
    {},
    [
      { index: 0, field: 'customerId', code: 'CUSTOMER_INVALID' },
      { index: 0, field: 'dimensions', code: 'TOO_MANY_PROPERTIES' },
    ],
  ],
  [
    '100 dimensions and a productId',
    {
      ...okNative,
      productId: 'p',
      dimensions: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`d${i}`, 'x'])),
    },
    'auto',
    {},
    [{ index: 0, field: 'dimensions', code: 'TOO_MANY_PROPERTIES' }],
  ],
  [
    'metadata as a string',
    { ...okNative, metadata: 'sdk' },
    'auto',
    {},
    [{ index: 0, field: 'metadata', code: 'METADATA_INVALID' }],
  ],
  [
    'a numeric metadata.source',
    { ...okNative, metadata: { source: 5 } },
    'auto',
    {},
    [{ index: 0, field: 'metadata.source', code: 'METADATA_INVALID' }],
  ],
  [
    'specversion 0.3',
    { ...ce, specversion: '0.3' },
    'auto',
    {},
    [{ index: 0, field: 'specversion', code: 'SPECVERSION_UNSUPPORTED' }],
  ],
  ['no source', { ...ce, source: '' }, 'auto', {}, [{ index: 0, field: 'source', code: 'SOURCE_MISSING' }]],
  [
    'a non-string source',
    { ...ce, source: { a: 1 } },
    'auto',
    {},
    [{ index: 0, field: 'source', code: 'SOURCE_INVALID' }],
  ],
  ['string data', { ...ce, data: 'hello' }, 'auto', {}, [{ index: 0, field: 'data', code: 'DATA_INVALID' }]],
  [
    'binary data',
    { ...ce, data_base64: 'AAAA' },
    'auto',
    {},
    [{ index: 0, field: 'data_base64', code: 'DATA_INVALID' }],
  ],
  [
    'a non-JSON datacontenttype',
    { ...ce, datacontenttype: 'text/plain', data: { a: 1 } },
    'auto',
    {},
    [{ index: 0, field: 'datacontenttype', code: 'DATA_INVALID' }],
  ],
  [
    'nested data',
    { ...ce, data: { quantity: 1, user: { id: 1 }, tags: ['a'] } },
    'auto',
    {},
    [
      { index: 0, field: 'data.user', code: 'DATA_NESTED_UNSUPPORTED' },
      { index: 0, field: 'data.tags', code: 'DATA_NESTED_UNSUPPORTED' },
    ],
  ],
];

describe('issue codes', () => {
  it.each(cases)('%s', (_name, body, format, o, expected) => {
    const issues = issuesOf(body, format, opts(o));
    expect(issues).toEqual(expected.map((e) => expect.objectContaining(e)));
    for (const issue of issues) {
      expect(typeof issue.message).toBe('string');
      expect(issue.message.length).toBeGreaterThan(0);
      if (issue.field === 'events' || (issue.field === '' && issue.code === 'BODY_INVALID'))
        expect(issue.index).toBeUndefined();
      else expect(typeof issue.index).toBe('number');
    }
  });

  it('covers every documented code', () => {
    const seen = new Set(cases.flatMap(([, , , , exp]) => exp.map((e) => e.code)));
    expect([...Object.values(EventIssueCode)].filter((c) => !seen.has(c))).toEqual([]);
  });

  it('reports every invalid event of a batch of 3 with its index, and rejects the batch', () => {
    const err = (() => {
      try {
        normalizeBatch(
          [
            { customerId: 'cus_1', metricName: 'calls', quantity: -2 },
            { customerId: 'cus_2', metricName: 'calls' },
            { metricName: 'calls', timestamp: '2023-10-01T13:00:00Z' },
          ],
          'auto',
          opts(),
        );
      } catch (e) {
        return e as ValidationFailedError;
      }
      throw new Error('accepted');
    })();
    expect(err.toBody()).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: '2 of 3 events invalid; the whole batch was rejected (see details)',
        details: [
          { index: 0, field: 'quantity', code: 'QUANTITY_NEGATIVE', message: expect.any(String) },
          { index: 2, field: 'timestamp', code: 'TIMESTAMP_IN_FUTURE', message: expect.any(String) },
          { index: 2, field: 'customerId', code: 'CUSTOMER_MISSING', message: expect.any(String) },
        ],
      },
    });
  });

  it('collects several issues of one event', () => {
    expect(
      issuesOf({ eventId: '', quantity: 'x', timestamp: 'x' }).map((i) => `${i.field}:${i.code}`),
    ).toEqual([
      'eventId:ID_INVALID',
      'timestamp:TIMESTAMP_INVALID',
      'customerId:CUSTOMER_MISSING',
      'metricName:EVENT_TYPE_MISSING',
      'quantity:QUANTITY_INVALID',
    ]);
  });

  it('names the customer property it was configured with', () => {
    expect(issuesOf(br, 'auto', opts({ billingrailsCustomerProperty: 'acct' }))).toEqual([
      expect.objectContaining({ index: 0, field: 'properties.acct', code: 'CUSTOMER_MISSING' }),
    ]);
  });

  it('keeps error messages short for huge keys', () => {
    const key = 'x y'.repeat(10_000);
    const [issue] = issuesOf({ ...okNative, dimensions: { [key]: 1 } });
    expect(issue.field.length).toBeLessThan(200);
  });
});
