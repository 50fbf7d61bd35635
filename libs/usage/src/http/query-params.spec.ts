import { QueryParams } from './query-params';

const issues = (p: QueryParams) => p.issues.map((i) => `${i.field}:${i.code}`);

describe('QueryParams', () => {
  it('reads times with Z or an offset, and dates as local midnight', () => {
    const p = new QueryParams(
      {
        a: '2026-03-08T00:00:00-05:00',
        b: '2026-03-08',
        c: '2026-03-08T05:00Z',
        d: '2026-03-08T05:00:00.000Z',
      },
      ['a', 'b', 'c', 'd'],
    );
    expect(p.time('a', 'UTC')).toEqual(new Date('2026-03-08T05:00:00Z'));
    expect(p.time('b', 'America/New_York')).toEqual(new Date('2026-03-08T05:00:00Z'));
    expect(p.time('c', 'UTC')).toEqual(new Date('2026-03-08T05:00:00Z'));
    expect(p.time('d', 'UTC')).toEqual(new Date('2026-03-08T05:00:00Z'));
    expect(p.issues).toEqual([]);
  });

  it('refuses impossible dates, local times without a zone, fractions of a second and out-of-range years', () => {
    const p = new QueryParams(
      {
        a: '2026-02-30',
        b: '2026-03-08T00:00:00',
        c: '2026-03-08T00:00:00.001Z',
        d: '1969-12-31T23:59:59Z',
        e: '2106-01-01',
        f: '2026-03-08T24:00:00Z',
      },
      ['a', 'b', 'c', 'd', 'e', 'f'],
    );
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) expect(p.time(name, 'UTC')).toBeUndefined();
    expect(issues(p)).toEqual([
      'a:INVALID_TIME',
      'b:INVALID_TIME',
      'c:TIME_NOT_WHOLE_SECOND',
      'd:INVALID_TIME',
      'e:INVALID_TIME',
      'f:INVALID_TIME',
    ]);
  });

  it('names unknown, repeated and missing parameters, and bad customer ids', () => {
    const p = new QueryParams(
      { from: ['a', 'b'], colour: 'red', customer: ['ok', '', '\ud800', 'x'.repeat(257)] },
      ['from', 'to', 'customer'],
    );
    p.one('from');
    p.required('to');
    expect(p.customers('customer')).toHaveLength(4);
    expect(issues(p)).toEqual([
      'colour:UNKNOWN_PARAMETER',
      'from:NOT_REPEATABLE',
      'to:REQUIRED',
      'customer[1]:TOO_SHORT',
      'customer[2]:INVALID_STRING',
      'customer[3]:TOO_LONG',
    ]);
    expect(() => p.throwIfAny()).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', httpStatus: 422 }),
    );
  });

  it('parses filters as JSON with the meter filter rules', () => {
    const p = new QueryParams(
      {
        filter: [
          '{"property":["country"],"operator":"in","value":"USA"}',
          '{"property":"n","operator":"gt","value":"abc"}',
          '[',
        ],
      },
      ['filter'],
    );
    expect(p.filters('filter')).toEqual([{ property: ['country'], operator: 'in', value: 'USA' }]);
    expect(issues(p)).toEqual(['filter[1].value:INVALID_DECIMAL', 'filter[2]:MALFORMED_JSON']);
  });
});
