import { ValidationFailedError } from '@tally/errors';
import {
  allSeries,
  filterProperty,
  filterSchema,
  filterValues,
  parseMeterDefinition,
  resolveSeries,
} from './meter';

const valid = {
  key: 'calls',
  name: 'Calls',
  eventTypes: ['Song played'],
  aggregation: 'count',
};

function issues(input: unknown): string[] {
  try {
    parseMeterDefinition(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationFailedError);
    expect((e as ValidationFailedError).httpStatus).toBe(422);
    return (e as ValidationFailedError).details.map((d) => `${d.field}:${d.code}`);
  }
  return [];
}

describe('meter definitions', () => {
  it('accepts the Billingrails filter exactly as written', () => {
    const m = parseMeterDefinition({
      ...valid,
      filters: [{ value: 'USA', operator: 'in', property: ['country'] }],
    });
    expect(m.filters).toEqual([{ value: 'USA', operator: 'in', property: ['country'] }]);
    expect(filterProperty(m.filters[0])).toBe('country');
    expect(filterValues(m.filters[0])).toEqual(['USA']);
  });

  it('fills defaults', () => {
    expect(parseMeterDefinition(valid)).toEqual({ ...valid, filters: [], groupBy: [], profiles: [] });
  });

  it('accepts every aggregation with a value property, and count without', () => {
    for (const aggregation of ['sum', 'unique_count', 'max', 'min', 'latest', 'avg']) {
      expect(issues({ ...valid, aggregation, valueProperty: 'duration' })).toEqual([]);
      expect(issues({ ...valid, aggregation, valueProperty: 'quantity' })).toEqual([]);
    }
  });

  it('reports every problem with its path', () => {
    expect(
      issues({
        key: 'Calls',
        name: '',
        eventTypes: [],
        aggregation: 'median',
        filters: [
          { property: 'country', operator: 'in' },
          { property: ['a', 'b'], operator: 'eq', value: 'x' },
          { property: 'n', operator: 'gt', value: 'abc' },
          { property: 'n', operator: 'exists', value: 'x' },
          { property: 'n', operator: 'eq', value: ['x'] },
          { property: 'n', operator: 'in', value: [] },
          { property: 'n', operator: 'like', value: 'x' },
          { property: '', operator: 'exists' },
        ],
        groupBy: ['a', 'a'],
        profiles: [
          { key: 'p', name: 'P', aggregation: 'sum', filters: [] },
          { key: 'p', name: 'P2', aggregation: 'count', valueProperty: 'x' },
        ],
        extra: true,
      }),
    ).toEqual([
      'key:INVALID_FORMAT',
      'name:TOO_SHORT',
      'eventTypes:TOO_SHORT',
      'aggregation:INVALID_VALUE',
      'filters[0].value:REQUIRED',
      'filters[1].property:TOO_LONG',
      'filters[2].value:INVALID_DECIMAL',
      'filters[3].value:VALUE_NOT_ALLOWED',
      'filters[4].value:VALUE_MUST_BE_SCALAR',
      'filters[5].value:TOO_SHORT',
      'filters[6].operator:INVALID_VALUE',
      'filters[7].property:TOO_SHORT',
      'extra:UNKNOWN_FIELD',
    ]);
  });

  it('cross-field rules: value property, duplicates', () => {
    expect(
      issues({
        ...valid,
        aggregation: 'sum',
        eventTypes: ['a', 'a'],
        groupBy: ['g', 'g'],
        profiles: [
          { key: 'p', name: 'P', aggregation: 'sum' },
          { key: 'p', name: 'P2', aggregation: 'count', valueProperty: 'x' },
        ],
      }),
    ).toEqual([
      'valueProperty:REQUIRED',
      'profiles[0].valueProperty:REQUIRED',
      'profiles[1].valueProperty:VALUE_PROPERTY_NOT_ALLOWED',
      'eventTypes[1]:DUPLICATE',
      'groupBy[1]:DUPLICATE',
      'profiles[1].key:DUPLICATE',
    ]);
  });

  it.each([
    ['a number', 12.5, true],
    ['a negative decimal string', '-3.25', true],
    ['26 integer digits', '9'.repeat(26), true],
    ['27 integer digits', '9'.repeat(27), false],
    ['12 fraction digits', '0.000000000001', true],
    ['13 fraction digits', '0.0000000000001', false],
    ['exponent notation', '1e3', false],
    ['a JSON number in exponent form that fits', 1e3, true],
    ['NaN text', 'NaN', false],
    ['a word', 'ten', false],
  ])('numeric comparison value: %s', (_name, value, ok) => {
    expect(filterSchema.safeParse({ property: 'n', operator: 'gte', value }).success).toBe(ok);
  });

  it('filters on quantity need decimal values for every comparing operator', () => {
    expect(filterSchema.safeParse({ property: 'quantity', operator: 'eq', value: 'x' }).success).toBe(false);
    expect(filterSchema.safeParse({ property: 'quantity', operator: 'in', value: [1, 'x'] }).success).toBe(
      false,
    );
    expect(filterSchema.safeParse({ property: 'quantity', operator: 'in', value: [1, '2.5'] }).success).toBe(
      true,
    );
    expect(filterSchema.safeParse({ property: 'country', operator: 'eq', value: 'x' }).success).toBe(true);
  });

  it('refuses property names longer than ingestion allows', () => {
    expect(issues({ ...valid, groupBy: ['x'.repeat(129)] })).toEqual(['groupBy[0]:TOO_LONG']);
  });
});

describe('series', () => {
  const m = parseMeterDefinition({
    ...valid,
    filters: [{ property: 'country', operator: 'exists' }],
    profiles: [
      {
        key: 'usa',
        name: 'USA',
        aggregation: 'sum',
        valueProperty: 'd',
        filters: [{ property: 'country', operator: 'eq', value: 'USA' }],
      },
    ],
  });

  it('a profile inherits event types and the meter filters, adding its own', () => {
    expect(resolveSeries(m, 'usa')).toEqual({
      key: 'calls:usa',
      meter: 'calls',
      profile: 'usa',
      aggregation: 'sum',
      valueProperty: 'd',
      eventTypes: ['Song played'],
      filters: [
        { property: 'country', operator: 'exists' },
        { property: 'country', operator: 'eq', value: 'USA' },
      ],
    });
    expect(allSeries(m).map((s) => s.key)).toEqual(['calls', 'calls:usa']);
  });

  it('an unknown profile is a validation error', () => {
    expect(() => resolveSeries(m, 'eu')).toThrow(ValidationFailedError);
  });
});
