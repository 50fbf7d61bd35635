import fc from 'fast-check';
import { parseRfc3339, parseTimestamp, TS_MAX_EXCLUSIVE_MS } from './timestamp';

describe('parseRfc3339', () => {
  it.each<[string, string]>([
    ['2023-10-01T12:00:00Z', '2023-10-01T12:00:00.000Z'],
    ['2023-10-01t12:00:00z', '2023-10-01T12:00:00.000Z'],
    ['2023-10-01T12:00:00.1Z', '2023-10-01T12:00:00.100Z'],
    ['2023-10-01T12:00:00.12Z', '2023-10-01T12:00:00.120Z'],
    ['2023-10-01T12:00:00.123Z', '2023-10-01T12:00:00.123Z'],
    ['2023-10-01T12:00:00.123999999Z', '2023-10-01T12:00:00.123Z'], // truncated, not rounded
    ['2023-10-01T14:30:00+02:30', '2023-10-01T12:00:00.000Z'],
    ['2023-10-01T07:00:00-05:00', '2023-10-01T12:00:00.000Z'],
    ['2023-10-01T12:00:00-00:00', '2023-10-01T12:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T23:59:59.999Z', '2000-02-29T23:59:59.999Z'],
    ['2016-12-31T23:59:60Z', '2016-12-31T23:59:59.999Z'], // leap second
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
  ])('%s', (input, iso) => {
    expect(parseRfc3339(input)).toBe(Date.parse(iso));
  });

  it.each([
    '2023-10-01T12:00:00', // no offset
    '2023-10-01 12:00:00Z', // space separator
    '2023-10-01',
    '2023-13-01T12:00:00Z',
    '2023-00-01T12:00:00Z',
    '2023-02-29T12:00:00Z',
    '1900-02-29T12:00:00Z',
    '2023-04-31T12:00:00Z',
    '2023-10-01T24:00:00Z',
    '2023-10-01T12:60:00Z',
    '2023-10-01T12:00:61Z',
    '2023-10-01T12:00:00.Z',
    '2023-10-01T12:00:00+0200',
    '2023-10-01T12:00:00+24:00',
    '2023-10-01T12:00:00ZZ',
    '2023-10-01T12:00:00Z ',
    '23-10-01T12:00:00.000Z',
    '2023/10/01T12:00:00Z',
    'x023-10-01T12:00:00Z',
    '2023-10-01T12:00:00.123+02:00x',
  ])('rejects %s', (input) => {
    expect(parseRfc3339(input)).toBeNaN();
  });

  it('agrees with Date for every instant of the supported range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: TS_MAX_EXCLUSIVE_MS - 1 }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (ms, offsetMin) => {
          const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 23);
          const sign = offsetMin < 0 ? '-' : '+';
          const abs = Math.abs(offsetMin);
          const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          return parseRfc3339(local + off) === ms;
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('parseTimestamp', () => {
  it('accepts integer epoch milliseconds as a number or a string', () => {
    expect(parseTimestamp(1696161600000)).toBe(1696161600000);
    expect(parseTimestamp('1696161600000')).toBe(1696161600000);
  });
  it('rejects fractional, non-finite, non-digit and non-string/number values', () => {
    for (const v of [1.5, NaN, Infinity, '1.5', '16961616e5', '', ' 1', '0x10', true, {}, []]) {
      expect(parseTimestamp(v)).toBeNaN();
    }
  });
  it('refuses epoch values when only RFC 3339 is allowed (CloudEvents time)', () => {
    expect(parseTimestamp(1696161600000, false)).toBeNaN();
    expect(parseTimestamp('1696161600000', false)).toBeNaN();
    expect(parseTimestamp('2023-10-01T12:00:00Z', false)).toBe(1696161600000);
  });
});
