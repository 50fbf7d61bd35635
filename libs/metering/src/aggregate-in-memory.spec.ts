import {
  aggregateInMemory,
  compareBytes,
  matchesFilter,
  type MeterEvent,
  meterRowsInMemory,
} from './aggregate-in-memory';
import { type MeterDefinitionInput, parseMeterDefinition } from './meter';

let n = 0;
const ev = (
  iso: string,
  quantity: string,
  properties: Record<string, string>,
  customer = 'c1',
  id?: string,
): MeterEvent => ({
  id: id ?? `e${++n}`,
  ts: Date.parse(iso),
  customer,
  type: 'call',
  quantity,
  properties,
});

const meter = (o: Partial<MeterDefinitionInput>) =>
  parseMeterDefinition({ key: 'm', name: 'M', eventTypes: ['call'], aggregation: 'count', ...o });

const events = [
  ev('2026-03-01T00:00:00Z', '1', { d: '10', c: 'USA' }),
  ev('2026-03-01T00:00:01Z', '2', { d: '20.5', c: 'FR' }),
  ev('2026-03-01T00:00:02Z', '3', { d: 'x', c: '' }),
  ev('2026-03-01T00:00:03Z', '4', { d: '-1' }),
  { ...ev('2026-03-01T00:00:04Z', '9', { d: '1000' }), type: 'other' },
];

describe('aggregateInMemory', () => {
  it.each<[Partial<MeterDefinitionInput>, string]>([
    [{ aggregation: 'count' }, '4'],
    [{ aggregation: 'sum', valueProperty: 'd' }, '29.5'],
    [{ aggregation: 'sum', valueProperty: 'quantity' }, '10'],
    [{ aggregation: 'max', valueProperty: 'd' }, '20.5'],
    [{ aggregation: 'min', valueProperty: 'd' }, '-1'],
    [{ aggregation: 'latest', valueProperty: 'd' }, '-1'],
    [{ aggregation: 'avg', valueProperty: 'd' }, '9.833333333333'],
    [{ aggregation: 'avg', valueProperty: 'quantity' }, '2.5'],
    [{ aggregation: 'unique_count', valueProperty: 'c' }, '3'],
    [{ aggregation: 'unique_count', valueProperty: 'quantity' }, '4'],
  ])('%j → %s', (definition, expected) => {
    expect(aggregateInMemory(meter(definition), undefined, events)).toBe(expected);
  });

  it('avg truncates toward zero like Decimal division', () => {
    const neg = [
      ev('2026-03-01T00:00:00Z', '1', { d: '-1' }),
      ev('2026-03-01T00:00:00Z', '1', { d: '-1' }),
      ev('2026-03-01T00:00:00Z', '1', { d: '0' }),
    ];
    expect(aggregateInMemory(meter({ aggregation: 'avg', valueProperty: 'd' }), undefined, neg)).toBe(
      '-0.666666666666',
    );
  });

  it('latest breaks a same-millisecond tie by the greater event id (byte order)', () => {
    const tie = [
      ev('2026-03-01T00:00:00.100Z', '1', { d: '1' }, 'c1', 'b'),
      ev('2026-03-01T00:00:00.100Z', '2', { d: '2' }, 'c1', 'a'),
      ev('2026-03-01T00:00:00.099Z', '3', { d: '3' }, 'c1', 'z'),
    ];
    expect(aggregateInMemory(meter({ aggregation: 'latest', valueProperty: 'd' }), undefined, tie)).toBe('1');
  });

  it('empty aggregates are 0', () => {
    for (const aggregation of ['count', 'sum', 'max', 'min', 'latest', 'avg', 'unique_count'] as const) {
      const m = meter({ aggregation, valueProperty: aggregation === 'count' ? undefined : 'd' });
      expect(aggregateInMemory(m, undefined, [])).toBe('0');
    }
  });

  it('scopes by time (inclusive from, exclusive to) and customers', () => {
    const m = meter({});
    const at = (iso: string) => new Date(iso);
    expect(
      aggregateInMemory(m, undefined, events, {
        from: at('2026-03-01T00:00:01Z'),
        to: at('2026-03-01T00:00:03Z'),
      }),
    ).toBe('2');
    expect(aggregateInMemory(m, undefined, events, { customers: ['nobody'] })).toBe('0');
  });
});

describe('matchesFilter', () => {
  const e = ev('2026-03-01T00:00:00Z', '1.5', { c: 'USA', empty: '', n: '7' });
  it.each<[string, Parameters<typeof matchesFilter>[1], boolean]>([
    ['eq', { property: 'c', operator: 'eq', value: 'USA' }, true],
    ['eq absent', { property: 'zz', operator: 'eq', value: '' }, false],
    ['eq present empty', { property: 'empty', operator: 'eq', value: '' }, true],
    ['ne absent', { property: 'zz', operator: 'ne', value: 'x' }, true],
    ['in scalar', { property: ['c'], operator: 'in', value: 'USA' }, true],
    ['not_in absent', { property: 'zz', operator: 'not_in', value: [''] }, true],
    ['gt numeric', { property: 'n', operator: 'gt', value: '6.99' }, true],
    ['gt non-numeric', { property: 'c', operator: 'gt', value: 0 }, false],
    ['eq number vs canonical text', { property: 'n', operator: 'eq', value: 7 }, true],
    ['quantity eq', { property: 'quantity', operator: 'eq', value: '1.50' }, true],
    ['quantity in', { property: 'quantity', operator: 'in', value: [1, 2] }, false],
    ['exists', { property: 'empty', operator: 'exists' }, true],
    ['exists absent', { property: 'zz', operator: 'exists' }, false],
  ])('%s', (_name, filter, expected) => {
    expect(matchesFilter(e, filter)).toBe(expected);
  });
});

describe('meterRowsInMemory', () => {
  it('groups, orders and limits like the SQL', () => {
    const m = meter({ groupBy: ['c'] });
    const rows = meterRowsInMemory(
      {
        tenant: 't',
        meter: m,
        from: new Date('2026-03-01T00:00:00Z'),
        to: new Date('2026-03-02T00:00:00Z'),
        window: 'day',
        timezone: 'UTC',
        groupBy: ['c'],
        limit: 3,
      },
      events,
    );
    const day = Date.parse('2026-03-01T00:00:00Z') / 1000;
    expect(rows).toEqual([
      { window_start: day, group_0: '', value: '2' },
      { window_start: day, group_0: 'FR', value: '1' },
      { window_start: day, group_0: 'USA', value: '1' },
    ]);
  });
});

describe('compareBytes', () => {
  it('orders by code point (UTF-8 byte order), not UTF-16 units', () => {
    // U+FF61 is one UTF-16 unit above the surrogate range; U+1F600 is a surrogate pair in UTF-16.
    expect('\uFF61' < '😀').toBe(false);
    expect(compareBytes('\uFF61', '😀')).toBe(-1);
    expect(compareBytes('a', 'ab')).toBe(-1);
    expect(compareBytes('b', 'a')).toBe(1);
    expect(compareBytes('x', 'x')).toBe(0);
  });
});
