import * as quote from './quote';
import { ValidationFailedError } from '@tally/errors';
import { type Filter, type MeterDefinitionInput, parseMeterDefinition } from '@tally/metering';
import type { MeterQueryParams } from '@tally/metering';
import { meterQuery } from './meter-query';

const meter = (overrides: Partial<MeterDefinitionInput> = {}) =>
  parseMeterDefinition({
    key: 'calls',
    name: 'Calls',
    eventTypes: ['call'],
    aggregation: 'count',
    groupBy: ['region', 'country'],
    ...overrides,
  });

const base = (overrides: Partial<MeterQueryParams> = {}): MeterQueryParams => ({
  database: 'tally',
  tenant: 'acme',
  meter: meter(),
  from: new Date('2026-03-01T00:00:00Z'),
  to: new Date('2026-04-01T00:00:00Z'),
  window: 'none',
  timezone: 'UTC',
  limit: 100,
  ...overrides,
});

const WHERE_BASE =
  "WHERE tenant = 'acme' AND event_type IN ('call') AND ts >= toDateTime('2026-03-01 00:00:00', 'UTC') AND ts < toDateTime('2026-04-01 00:00:00', 'UTC')";
const P = (name: string) => `properties.value[indexOf(properties.key, '${name}')]`;
const NUM = (name: string) =>
  `toDecimal128(if(match(${P(name)}, '^-?[0-9]{1,26}(\\\\.[0-9]{1,12})?$'), ${P(name)}, '0'), 12)`;
const IS_NUM = (name: string) => `match(${P(name)}, '^-?[0-9]{1,26}(\\\\.[0-9]{1,12})?$')`;
const TRIM = (x: string) => `replaceRegexpOne(toString(${x}), '\\\\.0*$|(\\\\.[0-9]*[1-9])0+$', '\\\\1')`;

const text = (p: MeterQueryParams) => meterQuery(p).text;

describe('meterQuery: exact SQL', () => {
  it('count, no window, no grouping: one row, no GROUP BY', () => {
    expect(text(base())).toBe(
      ['SELECT toString(count()) AS value', 'FROM `tally`.`events`', WHERE_BASE, 'LIMIT 100'].join('\n'),
    );
  });

  it('day window in a zone, per customer and group, with customers and the meter filter', () => {
    const m = meter({
      aggregation: 'sum',
      valueProperty: 'duration',
      filters: [{ value: 'USA', operator: 'in', property: ['country'] }],
    });
    expect(
      text(
        base({
          meter: m,
          window: 'day',
          timezone: 'America/New_York',
          groupByCustomer: true,
          groupBy: ['region'],
          customers: ['c1', 'c2'],
        }),
      ),
    ).toBe(
      [
        `SELECT toUInt32(toStartOfDay(ts, 'America/New_York')) AS window_start, customer, ${P('region')} AS \`group_0\`, ${TRIM(`sum(${NUM('duration')})`)} AS value`,
        'FROM `tally`.`events`',
        `${WHERE_BASE} AND customer IN ('c1', 'c2') AND ${P('country')} IN ('USA') AND ${IS_NUM('duration')}`,
        'GROUP BY window_start, customer, `group_0`',
        'ORDER BY window_start, customer, `group_0`',
        'LIMIT 100',
      ].join('\n'),
    );
  });

  it.each<[MeterQueryParams['window'], string, string]>([
    ['minute', 'UTC', 'toUInt32(toStartOfMinute(ts))'],
    ['hour', 'Asia/Kolkata', "toUInt32(toStartOfHour(ts, 'Asia/Kolkata'))"],
    ['day', 'Europe/Berlin', "toUInt32(toStartOfDay(ts, 'Europe/Berlin'))"],
    [
      'month',
      'America/New_York',
      "toUInt32(toDateTime(toStartOfMonth(ts, 'America/New_York'), 'America/New_York'))",
    ],
  ])('%s window', (window, timezone, expression) => {
    expect(text(base({ window, timezone }))).toBe(
      [
        `SELECT ${expression} AS window_start, toString(count()) AS value`,
        'FROM `tally`.`events`',
        WHERE_BASE,
        'GROUP BY window_start',
        'ORDER BY window_start',
        'LIMIT 100',
      ].join('\n'),
    );
  });

  it.each<[string, Partial<MeterDefinitionInput>, string, string]>([
    ['count', { aggregation: 'count' }, 'toString(count())', ''],
    ['sum of quantity', { aggregation: 'sum', valueProperty: 'quantity' }, TRIM('sum(quantity)'), ''],
    [
      'sum of a property',
      { aggregation: 'sum', valueProperty: 'd' },
      TRIM(`sum(${NUM('d')})`),
      ` AND ${IS_NUM('d')}`,
    ],
    ['max', { aggregation: 'max', valueProperty: 'd' }, TRIM(`max(${NUM('d')})`), ` AND ${IS_NUM('d')}`],
    ['min', { aggregation: 'min', valueProperty: 'quantity' }, TRIM('min(quantity)'), ''],
    [
      'latest',
      { aggregation: 'latest', valueProperty: 'd' },
      TRIM(`argMax(${NUM('d')}, (ts, ts_ms, event_id))`),
      ` AND ${IS_NUM('d')}`,
    ],
    [
      'avg (exact decimal division)',
      { aggregation: 'avg', valueProperty: 'd' },
      TRIM(`sum(${NUM('d')}) / greatest(count(), 1)`),
      ` AND ${IS_NUM('d')}`,
    ],
    [
      'unique_count of a property',
      { aggregation: 'unique_count', valueProperty: 'user' },
      `toString(uniqExact(${P('user')}))`,
      " AND has(properties.key, 'user')",
    ],
    [
      'unique_count of quantity',
      { aggregation: 'unique_count', valueProperty: 'quantity' },
      'toString(uniqExact(quantity))',
      '',
    ],
  ])('aggregation: %s', (_name, overrides, select, guard) => {
    expect(text(base({ meter: meter(overrides) }))).toBe(
      [`SELECT ${select} AS value`, 'FROM `tally`.`events`', `${WHERE_BASE}${guard}`, 'LIMIT 100'].join('\n'),
    );
  });

  it.each<[string, Filter, string]>([
    ['eq', { property: 'country', operator: 'eq', value: 'USA' }, `${P('country')} = 'USA'`],
    ['eq with a number (canonical text)', { property: 'n', operator: 'eq', value: 1.5 }, `${P('n')} = '1.5'`],
    [
      'eq empty string',
      { property: 'country', operator: 'eq', value: '' },
      `(has(properties.key, 'country') AND ${P('country')} = '')`,
    ],
    ['ne', { property: 'country', operator: 'ne', value: 'USA' }, `${P('country')} != 'USA'`],
    [
      'ne empty string',
      { property: 'country', operator: 'ne', value: '' },
      `(NOT has(properties.key, 'country') OR ${P('country')} != '')`,
    ],
    ['in', { property: 'country', operator: 'in', value: ['USA', 'FR'] }, `${P('country')} IN ('USA', 'FR')`],
    [
      'in with a scalar (Billingrails)',
      { property: ['country'], operator: 'in', value: 'USA' },
      `${P('country')} IN ('USA')`,
    ],
    [
      'in with empty string',
      { property: 'c', operator: 'in', value: ['', 'x'] },
      `(has(properties.key, 'c') AND ${P('c')} IN ('', 'x'))`,
    ],
    [
      'not_in',
      { property: 'country', operator: 'not_in', value: ['USA', 7] },
      `${P('country')} NOT IN ('USA', '7')`,
    ],
    [
      'not_in with empty string',
      { property: 'c', operator: 'not_in', value: [''] },
      `(NOT has(properties.key, 'c') OR ${P('c')} NOT IN (''))`,
    ],
    [
      'gt',
      { property: 'd', operator: 'gt', value: 60 },
      `(${IS_NUM('d')} AND ${NUM('d')} > toDecimal128('60', 12))`,
    ],
    [
      'gte',
      { property: 'd', operator: 'gte', value: '1.50' },
      `(${IS_NUM('d')} AND ${NUM('d')} >= toDecimal128('1.5', 12))`,
    ],
    [
      'lt negative',
      { property: 'd', operator: 'lt', value: -2.25 },
      `(${IS_NUM('d')} AND ${NUM('d')} < toDecimal128('-2.25', 12))`,
    ],
    [
      'lte',
      { property: 'd', operator: 'lte', value: '0.000000000001' },
      `(${IS_NUM('d')} AND ${NUM('d')} <= toDecimal128('0.000000000001', 12))`,
    ],
    ['exists', { property: 'country', operator: 'exists' }, "has(properties.key, 'country')"],
    ['quantity gt', { property: 'quantity', operator: 'gt', value: 1 }, "quantity > toDecimal128('1', 12)"],
    [
      'quantity eq',
      { property: 'quantity', operator: 'eq', value: '2.50' },
      "quantity = toDecimal128('2.5', 12)",
    ],
    ['quantity ne', { property: 'quantity', operator: 'ne', value: 0 }, "quantity != toDecimal128('0', 12)"],
    [
      'quantity in',
      { property: 'quantity', operator: 'in', value: [1, '2'] },
      "quantity IN (toDecimal128('1', 12), toDecimal128('2', 12))",
    ],
    [
      'quantity not_in',
      { property: 'quantity', operator: 'not_in', value: 1 },
      "quantity NOT IN (toDecimal128('1', 12))",
    ],
    ['quantity exists', { property: 'quantity', operator: 'exists' }, '1'],
  ])('filter: %s', (_name, filter, condition) => {
    const expected = [
      'SELECT toString(count()) AS value',
      'FROM `tally`.`events`',
      `${WHERE_BASE} AND ${condition}`,
      'LIMIT 100',
    ].join('\n');
    expect(text(base({ meter: meter({ filters: [filter] }) }))).toBe(expected);
    expect(text(base({ extraFilters: [filter] }))).toBe(expected);
  });

  it('a profile: the meter filters, then the profile filters, then the value guard', () => {
    const m = meter({
      filters: [{ property: 'country', operator: 'exists' }],
      profiles: [
        {
          key: 'usa',
          name: 'USA',
          aggregation: 'max',
          valueProperty: 'd',
          filters: [{ property: 'country', operator: 'eq', value: 'USA' }],
        },
      ],
    });
    expect(
      text(
        base({
          meter: m,
          profile: 'usa',
          extraFilters: [{ property: 'region', operator: 'eq', value: 'eu' }],
        }),
      ),
    ).toBe(
      [
        `SELECT ${TRIM(`max(${NUM('d')})`)} AS value`,
        'FROM `tally`.`events`',
        `${WHERE_BASE} AND has(properties.key, 'country') AND ${P('country')} = 'USA' AND ${P('region')} = 'eu' AND ${IS_NUM('d')}`,
        'LIMIT 100',
      ].join('\n'),
    );
  });

  it('several event types and group-by properties', () => {
    expect(
      text(base({ meter: meter({ eventTypes: ['a', 'b'] }), groupBy: ['country', 'region'], limit: 5 })),
    ).toBe(
      [
        `SELECT ${P('country')} AS \`group_0\`, ${P('region')} AS \`group_1\`, toString(count()) AS value`,
        'FROM `tally`.`events`',
        WHERE_BASE.replace("IN ('call')", "IN ('a', 'b')"),
        'GROUP BY `group_0`, `group_1`',
        'ORDER BY `group_0`, `group_1`',
        'LIMIT 5',
      ].join('\n'),
    );
  });
});

describe('meterQuery: parameter validation', () => {
  function issues(p: MeterQueryParams) {
    try {
      meterQuery(p);
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationFailedError);
      return (e as ValidationFailedError).details.map((d) => `${d.field}:${d.code}`);
    }
    throw new Error('expected a ValidationFailedError');
  }

  it('reports every bad parameter at once', () => {
    expect(
      issues(
        base({
          from: new Date('2026-03-01T00:00:00.500Z'),
          window: 'week' as never,
          timezone: 'america/new_york',
          limit: 0,
          customers: [],
          groupBy: ['plan', 'region', 'region'],
          profile: 'nope',
          extraFilters: [{ property: 'x', operator: 'gt', value: 'abc' }],
        }),
      ),
    ).toEqual([
      'from:TIME_NOT_WHOLE_SECOND',
      'window:INVALID_VALUE',
      'timezone:INVALID_TIMEZONE',
      'customers:TOO_SHORT',
      'limit:OUT_OF_RANGE',
      'extraFilters[0].value:INVALID_DECIMAL',
      'groupBy[0]:GROUP_BY_NOT_IN_METER',
      'groupBy[2]:DUPLICATE',
      'profile:UNKNOWN_PROFILE',
    ]);
  });

  it('rejects an empty or inverted range', () => {
    const d = new Date('2026-03-01T00:00:00Z');
    expect(issues(base({ from: d, to: d }))).toEqual(['to:EMPTY_RANGE']);
    expect(issues(base({ from: new Date('nope') }))).toEqual(['from:INVALID_TIME']);
  });

  it('suggests the canonical time-zone spelling', () => {
    expect(() => meterQuery(base({ timezone: 'america/new_york' }))).toThrow(
      expect.objectContaining({
        details: [
          expect.objectContaining({
            field: 'timezone',
            code: 'INVALID_TIMEZONE',
            message: expect.stringContaining("did you mean 'America/New_York'"),
          }),
        ],
      }),
    );
  });

  it('refuses a database name that is not an identifier (from the quoter)', () => {
    expect(() => meterQuery(base({ database: 'tally; DROP TABLE x' }))).toThrow(quote.SqlQuoteError);
    expect(() => meterQuery(base({ database: 'tally`.`x' }))).toThrow(quote.SqlQuoteError);
  });
});
