import { ValidationFailedError, type FieldIssue } from '@tally/errors';
import {
  DATAPOINT_COLUMNS,
  assertDatasetName,
  isValidDatasetName,
  normalizeDataPoints,
  toStorageRows,
  type DataPointRow,
  type NormalizeDataPointsOptions,
} from './datapoints';

const NOW = Date.UTC(2023, 2, 15, 12, 0, 0);
let ids = 0;
const options = { dataset: 'usage_indexed_by_customer_id', nowMs: NOW, generateId: () => `gen-${++ids}` };

beforeEach(() => {
  ids = 0;
});

function issues(body: unknown, extra: Partial<NormalizeDataPointsOptions> = {}): FieldIssue[] {
  try {
    normalizeDataPoints(body, { ...options, ...extra });
  } catch (error) {
    if (error instanceof ValidationFailedError) return error.details;
    throw error;
  }
  throw new Error('accepted');
}

function row(overrides: Partial<DataPointRow>): DataPointRow {
  const base: Record<string, unknown> = { id: 'gen-1', timestamp: NOW, index1: '', sampleInterval: 1 };
  for (let i = 1; i <= 20; i++) {
    base[`blob${i}`] = '';
    base[`double${i}`] = 0;
  }
  return { ...base, ...overrides } as DataPointRow;
}

describe('normalizeDataPoints', () => {
  it("normalises the seeds' writeDataPoint calls (blobs as an object, then as an array)", () => {
    const customer_id = 'cust_1';
    const request_endpoint = '/api/v1/things';
    expect(
      normalizeDataPoints([{ indexes: [customer_id], blobs: { customer_id, request_endpoint } }], options),
    ).toEqual([row({ id: 'gen-1', index1: 'cust_1', blob1: 'cust_1', blob2: '/api/v1/things' })]);
    expect(
      normalizeDataPoints({ points: [{ indexes: [customer_id], blobs: ['/pricing'] }] }, options),
    ).toEqual([row({ id: 'gen-2', index1: 'cust_1', blob1: '/pricing' })]);
  });

  it("fills missing blobs with '' and doubles with 0, keeps ids and timestamps", () => {
    const [point] = normalizeDataPoints(
      [
        {
          id: 'p-1',
          timestamp: NOW - 1500.7,
          blobs: ['a', null, 'c'],
          doubles: [1.5, -0, 1e300, -2],
        },
      ],
      options,
    );
    expect(point).toEqual(
      row({
        id: 'p-1',
        timestamp: NOW - 1501,
        blob1: 'a',
        blob3: 'c',
        double1: 1.5,
        double3: 1e300,
        double4: -2,
      }),
    );
    expect(Object.is(point.double2, 0)).toBe(true);
  });

  it('accepts the limits exactly', () => {
    const index = 'é'.repeat(48); // 96 bytes
    const blobs = Array.from({ length: 20 }, (_, i) => (i === 0 ? 'x'.repeat(16 * 1024 - 19) : 'y'));
    const doubles = Array.from({ length: 20 }, (_, i) => i);
    const points = Array.from({ length: 250 }, () => ({ indexes: [index], blobs, doubles }));
    const rows = normalizeDataPoints(points, options);
    expect(rows).toHaveLength(250);
    expect(rows[0]).toMatchObject({ index1: index, blob20: 'y', double20: 19 });
  });

  it('reports every issue of every point at once, with index, field, code and message', () => {
    const details = issues([
      { indexes: ['a', 'b'], blobs: Array(21).fill('x'), doubles: Array(21).fill(1) },
      {
        indexes: ['é'.repeat(49)],
        blobs: ['x'.repeat(16 * 1024 + 1)],
        doubles: [1, Number.NaN, '2', Infinity],
      },
      { indexes: [5], blobs: [1, 'ok', '\u0000'], doubles: 'nope', id: '', timestamp: 'now', extra: true },
      'not a point',
      { indexes: 'cust', blobs: 'x', id: 'has space', timestamp: NOW + 3_600_000 },
      { indexes: ['\ud800'], timestamp: NOW - 40 * 86_400_000 },
    ]);
    expect(details).toEqual([
      {
        index: 0,
        field: 'indexes',
        code: 'TOO_MANY_INDEXES',
        message: 'indexes has 2 entries; at most 1 is allowed',
      },
      {
        index: 0,
        field: 'blobs',
        code: 'TOO_MANY_BLOBS',
        message: 'blobs has 21 entries; at most 20 are allowed',
      },
      {
        index: 0,
        field: 'doubles',
        code: 'TOO_MANY_DOUBLES',
        message: 'doubles has 21 entries; at most 20 are allowed',
      },
      {
        index: 1,
        field: 'indexes[0]',
        code: 'INDEX_TOO_LONG',
        message: 'indexes[0] is 98 bytes of UTF-8; at most 96 are allowed',
      },
      {
        index: 1,
        field: 'blobs',
        code: 'BLOBS_TOO_LARGE',
        message: 'blobs total 16385 bytes of UTF-8; at most 16384 are allowed per data point',
      },
      {
        index: 1,
        field: 'doubles[1]',
        code: 'DOUBLE_INVALID',
        message: 'doubles[1] must be a finite number, got NaN',
      },
      {
        index: 1,
        field: 'doubles[2]',
        code: 'DOUBLE_INVALID',
        message: 'doubles[2] must be a finite number, got a string',
      },
      {
        index: 1,
        field: 'doubles[3]',
        code: 'DOUBLE_INVALID',
        message: 'doubles[3] must be a finite number, got Infinity',
      },
      {
        index: 2,
        field: 'extra',
        code: 'FIELD_UNKNOWN',
        message: "Unknown field 'extra': a data point has indexes, blobs, doubles, id and timestamp",
      },
      {
        index: 2,
        field: 'indexes[0]',
        code: 'INDEX_INVALID',
        message: 'indexes[0] must be a string, got a number',
      },
      {
        index: 2,
        field: 'blobs[0]',
        code: 'BLOB_INVALID',
        message: 'blobs[0] must be a string or null, got a number',
      },
      {
        index: 2,
        field: 'blobs[2]',
        code: 'INVALID_CHARACTER',
        message: 'blobs[2] contains a NUL character or an unpaired UTF-16 surrogate',
      },
      {
        index: 2,
        field: 'doubles',
        code: 'DOUBLES_INVALID',
        message: 'doubles must be an array of numbers, got a string',
      },
      {
        index: 2,
        field: 'timestamp',
        code: 'TIMESTAMP_INVALID',
        message: 'timestamp must be epoch milliseconds between 0 and 4291747199999, got a string',
      },
      {
        index: 2,
        field: 'id',
        code: 'ID_INVALID',
        message: 'id must be 1-128 printable ASCII characters without spaces, got 0 characters',
      },
      { index: 3, field: '', code: 'POINT_INVALID', message: 'A data point must be an object, got a string' },
      {
        index: 4,
        field: 'indexes',
        code: 'INDEXES_INVALID',
        message: 'indexes must be an array, got a string',
      },
      {
        index: 4,
        field: 'blobs',
        code: 'BLOBS_INVALID',
        message: 'blobs must be an array (or an object whose values are taken in order), got a string',
      },
      {
        index: 4,
        field: 'timestamp',
        code: 'TIMESTAMP_IN_FUTURE',
        message: 'timestamp is 3600000 ms ahead of the server clock; at most 300000 ms are allowed',
      },
      {
        index: 4,
        field: 'id',
        code: 'ID_INVALID',
        message: 'id must be 1-128 printable ASCII characters without spaces, got 9 characters',
      },
      {
        index: 5,
        field: 'indexes[0]',
        code: 'INVALID_CHARACTER',
        message: 'indexes[0] contains a NUL character or an unpaired UTF-16 surrogate',
      },
      {
        index: 5,
        field: 'timestamp',
        code: 'TIMESTAMP_TOO_OLD',
        message: 'timestamp is older than the 3024000000 ms that late data points are accepted for',
      },
    ]);
  });

  it('refuses blobs objects with numeric keys, whose order JavaScript does not keep', () => {
    expect(issues([{ blobs: { b: 'x', '2': 'y' } }])).toEqual([
      {
        index: 0,
        field: 'blobs.2',
        code: 'BLOBS_INVALID',
        message:
          "blobs given as an object take their order from the keys, and a numeric key such as '2' is always enumerated first: send blobs as an array",
      },
    ]);
  });

  it('refuses bad bodies and batches as a whole', () => {
    expect(issues({ nope: 1 })).toEqual([
      {
        field: '',
        code: 'BODY_INVALID',
        message: 'The body must be an array of data points or {"points": [...]}',
      },
    ]);
    expect(issues({ points: 'x' })).toEqual([
      { field: 'points', code: 'BODY_INVALID', message: '"points" must be an array of data points' },
    ]);
    expect(issues([])).toEqual([
      { field: 'points', code: 'BATCH_EMPTY', message: 'The request contains no data points' },
    ]);
    expect(issues(Array(251).fill({}))).toEqual([
      {
        field: 'points',
        code: 'BATCH_TOO_LARGE',
        message: 'The request has 251 data points; at most 250 are accepted per request',
      },
    ]);
    expect(issues(Array(11).fill({}), { maxBatch: 10 })[0].code).toBe('BATCH_TOO_LARGE');
  });

  it("reports an invalid dataset name along with the points' issues", () => {
    expect(issues([{ doubles: [Number.NaN] }], { dataset: '1bad-name' })).toEqual([
      {
        field: 'dataset',
        code: 'DATASET_INVALID',
        message: 'Dataset name "1bad-name" must match ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$',
      },
      {
        index: 0,
        field: 'doubles[0]',
        code: 'DOUBLE_INVALID',
        message: 'doubles[0] must be a finite number, got NaN',
      },
    ]);
  });
});

describe('dataset names', () => {
  it.each([
    ['usage_indexed_by_customer_id', true],
    ['_x', true],
    ['A1', true],
    ['a'.repeat(64), true],
    ['a'.repeat(65), false],
    ['', false],
    ['1abc', false],
    ['a-b', false],
    ['a.b', false],
    ['a b', false],
    ['é', false],
  ])('%j valid: %s', (name, valid) => {
    expect(isValidDatasetName(name)).toBe(valid);
    if (valid) expect(() => assertDatasetName(name)).not.toThrow();
    else expect(() => assertDatasetName(name)).toThrow(ValidationFailedError);
  });
});

describe('toStorageRows', () => {
  it('maps rows to the datapoints table columns', () => {
    const [stored] = toStorageRows('acme', 'api_calls', [
      row({
        id: 'p1',
        timestamp: Date.UTC(2023, 2, 1, 0, 0, 59, 999),
        index1: 'c1',
        blob1: '/a',
        double2: 2.5,
        sampleInterval: 4,
      }),
    ]);
    expect(Object.keys(stored)).toEqual(DATAPOINT_COLUMNS);
    expect(stored).toMatchObject({
      tenant: 'acme',
      dataset: 'api_calls',
      timestamp: '2023-03-01 00:00:59',
      point_id: 'p1',
      index1: 'c1',
      blob1: '/a',
      blob20: '',
      double1: 0,
      double2: 2.5,
      _sample_interval: 4,
    });
  });

  it('refuses an interval that is not a UInt32 and a bad dataset', () => {
    expect(() => toStorageRows('acme', 'api_calls', [row({ sampleInterval: 0 })])).toThrow(RangeError);
    expect(() => toStorageRows('acme', 'api_calls', [row({ sampleInterval: 1.5 })])).toThrow(RangeError);
    expect(() => toStorageRows('acme', 'bad name', [row({})])).toThrow(ValidationFailedError);
  });
});
