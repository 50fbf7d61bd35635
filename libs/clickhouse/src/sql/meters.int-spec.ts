/**
 * The SQL builders against a real ClickHouse (18.16 in CI), on hand-written events whose answers are
 * computed by hand below, and against the in-memory reference (`aggregateInMemory`,
 * `meterRowsInMemory`). Each run uses its own throw-away database `t_<random>`.
 */
import * as quote from './quote';
import { createClickHouse, type ClickHouse } from '../client';
import { identifier, sql } from './quote';
import { randomPrefix, testClickHouseUrl } from '@tally/testing';
import fc from 'fast-check';
import {
  type Aggregation,
  aggregateInMemory,
  type Filter,
  type MeterDefinitionInput,
  type MeterEvent,
  type MeterQueryParams,
  type MeterRow,
  meterRowsInMemory,
  parseMeterDefinition,
  type WindowSize,
} from '@tally/metering';
import { customerPeriodUsage, type PeriodUsageRow } from './customer-period-usage';
import { trimDecimalText } from './meter-sql-parts';
import { meterQuery } from './meter-query';
import { topCustomers, type TopCustomerRow } from './top-customers';

interface TestEvent extends MeterEvent {
  tenant: string;
}

function ev(
  id: string,
  iso: string,
  customer: string,
  quantity: string,
  properties: Record<string, string>,
  type = 'call',
  tenant = 'acme',
): TestEvent {
  return { tenant, id, ts: Date.parse(iso), customer, type, quantity, properties };
}

// In range [2026-03-01, 2026-03-07) UTC; hand-computed answers below refer to these rows.
const CALLS: TestEvent[] = [
  ev('e1', '2026-03-02T10:00:00.000Z', 'c1', '1', { country: 'USA', duration: '60', region: 'east' }),
  ev('e2', '2026-03-02T11:00:00.500Z', 'c1', '1', { country: 'USA', duration: '30.5', region: 'west' }),
  ev('e3', '2026-03-03T09:00:00.000Z', 'c1', '2', { country: 'FR', duration: '120', region: 'east' }),
  ev('e4', '2026-03-03T09:30:00.000Z', 'c2', '1', { country: 'USA', duration: '15.25', region: 'east' }),
  ev('e5', '2026-03-04T12:00:00.000Z', 'c2', '1', {
    country: 'DE',
    duration: '0.000000000001',
    region: 'west',
  }),
  ev('e6', '2026-03-05T12:00:00.000Z', 'c2', '3', { country: 'USA', duration: '-5' }),
  ev('e7', '2026-03-05T13:00:00.000Z', 'c3', '1', { country: '', duration: 'abc' }),
  ev('e8', '2026-03-06T13:00:00.000Z', 'c3', '1', { duration: '1e3' }),
  ev('e9', '2026-03-06T14:00:00.000Z', 'c3', '0.5', { country: 'USA', duration: '1.1234567890123' }),
  ev('z1', '2026-03-06T20:00:00.250Z', 'c2', '7', { country: 'USA', duration: '99' }),
  ev('z2', '2026-03-06T20:00:00.250Z', 'c2', '8', { country: 'USA', duration: '98' }),
  ev('z9', '2026-03-06T20:00:00.249Z', 'c2', '1', { duration: '97' }),
];

// Must never be counted by the March queries: other tenant, other type, outside the range.
const NOISE: TestEvent[] = [
  ev('o1', '2026-03-02T10:00:00.000Z', 'c1', '1000', { country: 'USA', duration: '1000' }, 'call', 'other'),
  ev('s1', '2026-03-02T10:00:00.000Z', 'c1', '5', { country: 'USA', duration: '5' }, 'sms'),
  ev('b1', '2026-02-28T23:59:59.999Z', 'c1', '400', { country: 'USA', duration: '400' }),
  ev('a1', '2026-03-07T00:00:00.000Z', 'c1', '500', { country: 'USA', duration: '500' }),
];

// Day windows in America/New_York around both 2026 DST changes (EST = UTC-5, EDT = UTC-4).
const TICKS: TestEvent[] = [
  ['t1', '2026-03-08T04:59:59.000Z'], // Mar 7 23:59:59 EST
  ['t2', '2026-03-08T05:00:00.000Z'], // Mar 8 00:00:00 EST
  ['t3', '2026-03-08T06:59:59.999Z'], // Mar 8 01:59:59 EST
  ['t4', '2026-03-08T07:00:00.000Z'], // Mar 8 03:00:00 EDT (02:xx does not exist)
  ['t5', '2026-03-09T03:59:59.000Z'], // Mar 8 23:59:59 EDT (the day had 23 hours)
  ['t6', '2026-03-09T04:00:00.000Z'], // Mar 9 00:00:00 EDT
  ['n1', '2026-11-01T03:59:59.000Z'], // Oct 31 23:59:59 EDT
  ['n2', '2026-11-01T04:00:00.000Z'], // Nov 1 00:00:00 EDT
  ['n3', '2026-11-01T05:30:00.000Z'], // Nov 1 01:30 EDT
  ['n4', '2026-11-01T06:30:00.000Z'], // Nov 1 01:30 EST (the same wall time again)
  ['n5', '2026-11-02T04:59:59.000Z'], // Nov 1 23:59:59 EST (the day had 25 hours)
  ['n6', '2026-11-02T05:00:00.000Z'], // Nov 2 00:00:00 EST
].map(([id, iso]) => ev(id, iso, 'c1', '1', { n: id }, 'tick'));

// Hostile text in customers, property names and values: must round-trip and match exactly.
const WEIRD_KEY = "we'ird\\key--/*";
const WEIRD_VALUE = "va'l\\ue */ -- ü😀 \n\t";
const WEIRD: TestEvent[] = [
  ev('w1', '2026-03-02T10:00:00.000Z', "o'brien\\", '1', { [WEIRD_KEY]: WEIRD_VALUE, plain: 'x' }, 'weird'),
  ev('w2', '2026-03-02T10:00:01.000Z', 'c1', '2', { [WEIRD_KEY]: 'other', plain: 'x' }, 'weird'),
  ev('w3', '2026-03-02T10:00:02.000Z', 'c1', '3', { plain: "it's" }, 'weird'),
];

const ALL = [...CALLS, ...NOISE, ...TICKS, ...WEIRD];
const ACME = ALL.filter((e) => e.tenant === 'acme');

const FROM = new Date('2026-03-01T00:00:00Z');
const TO = new Date('2026-03-07T00:00:00Z');

function meter(overrides: Partial<MeterDefinitionInput>) {
  return parseMeterDefinition({
    key: 'calls',
    name: 'Calls',
    eventTypes: ['call'],
    aggregation: 'count',
    groupBy: ['region', 'country'],
    ...overrides,
  });
}

describe('meter SQL on ClickHouse', () => {
  let ch: ClickHouse;
  const database = randomPrefix('t');

  beforeAll(async () => {
    ch = createClickHouse({ url: testClickHouseUrl(), username: 'default', password: '', database });
    await ch.command(sql`CREATE DATABASE ${identifier(database)}`);
    await ch.command(sql`
      CREATE TABLE ${identifier(database, 'events')} (
        tenant String, customer String, event_type String, ts DateTime('UTC'), ts_ms UInt16, event_id String,
        quantity Decimal(38, 12), properties Nested(key String, value String), source String,
        schema_version String, request_id String, received_at DateTime('UTC'), inserted_at DateTime('UTC'),
        payload_hash String
      ) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (tenant, event_type, customer, ts, event_id)`);
    const rows = ALL.map((e) => {
      const keys = Object.keys(e.properties);
      return sql`(${e.tenant}, ${e.customer}, ${e.type}, ${new Date(e.ts)}, ${e.ts % 1000}, ${e.id}, ${quote.decimal(
        e.quantity,
        12,
      )}, ${keys}, ${keys.map((k) => e.properties[k])}, '', '1', '', ${new Date(e.ts)}, now(), '')`;
    });
    await ch.command(sql`
      INSERT INTO ${identifier(database, 'events')}
        (tenant, customer, event_type, ts, ts_ms, event_id, quantity, properties.key, properties.value, source,
         schema_version, request_id, received_at, inserted_at, payload_hash)
      VALUES ${quote.join(rows)}`);
  });

  afterAll(async () => {
    if (!ch) return;
    await ch.command(sql`DROP DATABASE IF EXISTS ${identifier(database)}`).catch(() => undefined);
    await ch.close();
  });

  const run = <T>(fragment: quote.SqlFragment) => ch.query<T>(fragment);

  function params(m: ReturnType<typeof meter>, extra: Partial<MeterQueryParams> = {}): MeterQueryParams {
    return {
      database,
      tenant: 'acme',
      meter: m,
      from: FROM,
      to: TO,
      window: 'none',
      timezone: 'UTC',
      limit: 1000,
      ...extra,
    };
  }

  async function total(m: ReturnType<typeof meter>, extra: Partial<MeterQueryParams> = {}): Promise<string> {
    const p = params(m, extra);
    const rows = await run<MeterRow>(meterQuery(p));
    expect(rows).toHaveLength(1);
    // The reference must agree on every query, not only the hand-computed ones.
    expect(rows).toEqual(meterRowsInMemory(p, ACME));
    expect(rows[0].value).toBe(
      aggregateInMemory(m, p.profile, ACME, {
        from: FROM,
        to: TO,
        extraFilters: p.extraFilters,
        customers: p.customers,
      }),
    );
    return rows[0].value;
  }

  it('trims only fraction zeros, also of Decimal text a modern server already printed without them', async () => {
    const inputs = [
      '1.500000000000',
      '100.000000000000',
      '0.000000000000',
      '-0.100000000000',
      '100',
      '1.5',
      '10',
      '-5',
    ];
    const rows = await run<{ t: string }>(
      sql`SELECT ${trimDecimalText(sql`s`)} AS t FROM (SELECT arrayJoin(${inputs}) AS s)`,
    );
    expect(rows.map((r) => r.t)).toEqual(['1.5', '100', '0', '-0.1', '100', '1.5', '10', '-5']);
  });

  it('stored every event exactly (sanity)', async () => {
    const rows = await run<{ n: string }>(
      sql`SELECT toString(count()) AS n FROM ${identifier(database, 'events')}`,
    );
    expect(rows).toEqual([{ n: String(ALL.length) }]);
  });

  describe('aggregations', () => {
    it.each<[string, Partial<MeterDefinitionInput>, string]>([
      ['count', { aggregation: 'count' }, '12'],
      [
        'sum of a property (non-numeric values skipped)',
        { aggregation: 'sum', valueProperty: 'duration' },
        '514.750000000001',
      ],
      ['sum of quantity', { aggregation: 'sum', valueProperty: 'quantity' }, '27.5'],
      ['max of a property', { aggregation: 'max', valueProperty: 'duration' }, '120'],
      ['min of a property (negative)', { aggregation: 'min', valueProperty: 'duration' }, '-5'],
      ['max of quantity', { aggregation: 'max', valueProperty: 'quantity' }, '8'],
      ['min of quantity', { aggregation: 'min', valueProperty: 'quantity' }, '0.5'],
      [
        'latest (same millisecond: greater event id wins)',
        { aggregation: 'latest', valueProperty: 'duration' },
        '98',
      ],
      ['latest of quantity', { aggregation: 'latest', valueProperty: 'quantity' }, '8'],
      [
        'avg of a property, truncated to 12 decimals',
        { aggregation: 'avg', valueProperty: 'duration' },
        '57.194444444444',
      ],
      ['avg of quantity', { aggregation: 'avg', valueProperty: 'quantity' }, '2.291666666666'],
      [
        'unique_count of a property (present-but-empty counts)',
        { aggregation: 'unique_count', valueProperty: 'country' },
        '4',
      ],
      [
        'unique_count of quantity (numeric equality)',
        { aggregation: 'unique_count', valueProperty: 'quantity' },
        '6',
      ],
    ])('%s', async (_name, overrides, expected) => {
      expect(await total(meter(overrides))).toBe(expected);
    });

    it('empty aggregates read 0 without grouping', async () => {
      for (const aggregation of ['count', 'sum', 'max', 'min', 'latest', 'avg', 'unique_count'] as const) {
        const m = meter({ aggregation, valueProperty: aggregation === 'count' ? undefined : 'duration' });
        expect(await total(m, { customers: ['nobody'] })).toBe('0');
      }
    });

    it('profiles add their filters to the meter and use their own aggregation', async () => {
      const m = meter({
        profiles: [
          {
            key: 'usa',
            name: 'USA minutes',
            aggregation: 'sum',
            valueProperty: 'duration',
            filters: [{ property: 'country', operator: 'eq', value: 'USA' }],
          },
          {
            key: 'intl',
            name: 'International',
            aggregation: 'count',
            filters: [{ property: 'country', operator: 'not_in', value: ['USA'] }],
          },
        ],
      });
      expect(await total(m, { profile: 'usa' })).toBe('297.75');
      expect(await total(m, { profile: 'intl' })).toBe('5');
      expect(await total(m)).toBe('12');
    });
  });

  describe('filter operators', () => {
    it.each<[string, Filter, string]>([
      [
        'Billingrails: in with a scalar and a one-element property path',
        { value: 'USA', operator: 'in', property: ['country'] },
        '7',
      ],
      ['eq', { property: 'country', operator: 'eq', value: 'USA' }, '7'],
      [
        'ne (absent property counts as not equal)',
        { property: 'country', operator: 'ne', value: 'USA' },
        '5',
      ],
      ['in', { property: 'country', operator: 'in', value: ['USA', 'FR'] }, '8'],
      ['not_in', { property: 'country', operator: 'not_in', value: ['USA', 'FR'] }, '4'],
      ['eq empty string: present and empty only', { property: 'country', operator: 'eq', value: '' }, '1'],
      ['ne empty string: absent ones included', { property: 'country', operator: 'ne', value: '' }, '11'],
      ['in with the empty string', { property: 'country', operator: 'in', value: ['', 'DE'] }, '2'],
      ['not_in with the empty string', { property: 'country', operator: 'not_in', value: ['', 'DE'] }, '10'],
      ['exists', { property: 'country', operator: 'exists' }, '10'],
      [
        'gt (decimal comparison, non-numeric never matches)',
        { property: 'duration', operator: 'gt', value: 60 },
        '4',
      ],
      ['gte', { property: 'duration', operator: 'gte', value: '60' }, '5'],
      ['lt', { property: 'duration', operator: 'lt', value: '15.25' }, '2'],
      ['lte', { property: 'duration', operator: 'lte', value: 15.25 }, '3'],
      ['gt a negative number', { property: 'duration', operator: 'gt', value: -5 }, '8'],
      [
        'gt the smallest step of Decimal(38, 12)',
        { property: 'duration', operator: 'gt', value: '0.000000000001' },
        '7',
      ],
      [
        'gte the smallest step of Decimal(38, 12)',
        { property: 'duration', operator: 'gte', value: '0.000000000001' },
        '8',
      ],
      [
        'eq with a number compares canonical text',
        { property: 'duration', operator: 'eq', value: 30.5 },
        '1',
      ],
      ['eq with a string is exact text', { property: 'duration', operator: 'eq', value: '30.50' }, '0'],
      ['quantity gt', { property: 'quantity', operator: 'gt', value: 1 }, '4'],
      ['quantity eq (numeric)', { property: 'quantity', operator: 'eq', value: '0.50' }, '1'],
      ['quantity in', { property: 'quantity', operator: 'in', value: [1, '2'] }, '8'],
      ['quantity not_in', { property: 'quantity', operator: 'not_in', value: 1 }, '5'],
      ['quantity ne', { property: 'quantity', operator: 'ne', value: 1 }, '5'],
      ['quantity exists', { property: 'quantity', operator: 'exists' }, '12'],
      [
        'a NUL byte in a value is quoted, matches nothing',
        { property: 'country', operator: 'eq', value: 'US\u0000A' },
        '0',
      ],
    ])('%s', async (_name, filter, expected) => {
      expect(await total(meter({ filters: [filter] }))).toBe(expected);
      // The same filter given at query time (extraFilters) must give the same answer.
      expect(await total(meter({}), { extraFilters: [filter] })).toBe(expected);
    });
  });

  describe('grouping and windows', () => {
    it('per customer and region, by UTC day, in order', async () => {
      const m = meter({ aggregation: 'sum', valueProperty: 'quantity' });
      const p = params(m, { window: 'day', groupByCustomer: true, groupBy: ['region'] });
      const rows = await run<MeterRow>(meterQuery(p));
      expect(rows).toEqual(meterRowsInMemory(p, ACME));
      expect(rows[0]).toEqual({
        window_start: Date.parse('2026-03-02T00:00:00Z') / 1000,
        customer: 'c1',
        group_0: 'east',
        value: '1',
      });
    });

    it('by region only (absent reads as empty)', async () => {
      const p = params(meter({}), { groupBy: ['region'] });
      expect(await run<MeterRow>(meterQuery(p))).toEqual([
        { group_0: '', value: '7' },
        { group_0: 'east', value: '3' },
        { group_0: 'west', value: '2' },
      ]);
    });

    it('LIMIT applies after ordering', async () => {
      const p = params(meter({}), { groupByCustomer: true, limit: 2 });
      const rows = await run<MeterRow>(meterQuery(p));
      expect(rows).toEqual([
        { customer: 'c1', value: '3' },
        { customer: 'c2', value: '6' },
      ]);
      expect(rows).toEqual(meterRowsInMemory(p, ACME));
    });

    const ticks = meter({ key: 'ticks', eventTypes: ['tick'] });
    const dst = (window: MeterQueryParams['window']) =>
      params(ticks, {
        window,
        timezone: 'America/New_York',
        from: new Date('2026-03-01T00:00:00Z'),
        to: new Date('2026-12-01T00:00:00Z'),
      });
    const at = (iso: string) => Date.parse(iso) / 1000;

    it('day windows in America/New_York across both DST changes', async () => {
      const p = dst('day');
      const rows = await run<MeterRow>(meterQuery(p));
      expect(rows).toEqual([
        { window_start: at('2026-03-07T05:00:00Z'), value: '1' },
        { window_start: at('2026-03-08T05:00:00Z'), value: '4' }, // 23-hour day
        { window_start: at('2026-03-09T04:00:00Z'), value: '1' },
        { window_start: at('2026-10-31T04:00:00Z'), value: '1' },
        { window_start: at('2026-11-01T04:00:00Z'), value: '4' }, // 25-hour day
        { window_start: at('2026-11-02T05:00:00Z'), value: '1' },
      ]);
      expect(rows).toEqual(meterRowsInMemory(p, ACME));
    });

    it('month windows start at local midnight of the 1st', async () => {
      const p = dst('month');
      const rows = await run<MeterRow>(meterQuery(p));
      expect(rows).toEqual([
        { window_start: at('2026-03-01T05:00:00Z'), value: '6' },
        { window_start: at('2026-10-01T04:00:00Z'), value: '1' },
        { window_start: at('2026-11-01T04:00:00Z'), value: '5' },
      ]);
      expect(rows).toEqual(meterRowsInMemory(p, ACME));
    });

    it.each(['hour', 'minute'] as const)('%s windows agree with the reference across DST', async (window) => {
      const p = dst(window);
      const rows = await run<MeterRow>(meterQuery(p));
      expect(rows).toEqual(meterRowsInMemory(p, ACME));
      // The repeated 01:30 on Nov 1 falls into two different hours (EDT and EST).
      if (window === 'hour') {
        expect(
          rows.filter(
            (r) =>
              r.window_start === at('2026-11-01T05:00:00Z') || r.window_start === at('2026-11-01T06:00:00Z'),
          ),
        ).toHaveLength(2);
      }
    });

    it('hour windows in a half-hour zone agree with the reference', async () => {
      const p = { ...params(meter({}), { window: 'hour' as const, timezone: 'Asia/Kolkata' }) };
      expect(await run<MeterRow>(meterQuery(p))).toEqual(meterRowsInMemory(p, ACME));
    });
  });

  describe('hostile text', () => {
    const weird = meter({ key: 'weird', eventTypes: ['weird'], groupBy: [WEIRD_KEY, 'plain'] });

    it('filters on a hostile property name and value match exactly', async () => {
      expect(
        await total(weird, { extraFilters: [{ property: WEIRD_KEY, operator: 'eq', value: WEIRD_VALUE }] }),
      ).toBe('1');
      expect(
        await total(weird, {
          extraFilters: [{ property: 'plain', operator: 'in', value: ["it's", 'nope'] }],
        }),
      ).toBe('1');
    });

    it('groups by a hostile property name and returns the exact values', async () => {
      const p = params(weird, { groupBy: [WEIRD_KEY], groupByCustomer: true });
      const rows = await run<MeterRow>(meterQuery(p));
      expect(rows).toEqual(meterRowsInMemory(p, ACME));
      expect(rows).toContainEqual({ customer: "o'brien\\", group_0: WEIRD_VALUE, value: '1' });
    });

    it('selects a hostile customer id', async () => {
      expect(await total(weird, { customers: ["o'brien\\"] })).toBe('1');
    });
  });

  describe('customerPeriodUsage', () => {
    it('totals and NY days per meter and profile, matching the reference', async () => {
      const m = meter({
        aggregation: 'sum',
        valueProperty: 'duration',
        profiles: [
          { key: 'peak', name: 'Peak', aggregation: 'max', valueProperty: 'duration', filters: [] },
          {
            key: 'countries',
            name: 'Countries',
            aggregation: 'unique_count',
            valueProperty: 'country',
            filters: [],
          },
        ],
      });
      const ticks = meter({ key: 'ticks', eventTypes: ['tick'] });
      const from = new Date('2026-03-01T05:00:00Z'); // March in New York
      const to = new Date('2026-04-01T04:00:00Z');
      const rows = await run<PeriodUsageRow>(
        customerPeriodUsage({
          database,
          tenant: 'acme',
          customer: 'c1',
          meters: [m, ticks],
          from,
          to,
          timezone: 'America/New_York',
        }),
      );
      const c1 = ACME.filter((e) => e.customer === 'c1');
      const expected: PeriodUsageRow[] = [];
      // In the query's order: by series name ('calls' < 'calls:countries' < 'calls:peak' < 'ticks').
      for (const [mm, profile] of [
        [m, undefined],
        [m, 'countries'],
        [m, 'peak'],
        [ticks, undefined],
      ] as const) {
        const series = profile ? `${mm.key}:${profile}` : mm.key;
        const days = meterRowsInMemory(
          {
            tenant: 'acme',
            meter: mm,
            profile,
            from,
            to,
            window: 'day',
            timezone: 'America/New_York',
            customers: ['c1'],
            limit: 1000,
          },
          c1,
        );
        for (const d of days)
          expected.push({ series, bucket: 'day', day_start: d.window_start!, value: d.value });
        expected.push({
          series,
          bucket: 'total',
          day_start: 0,
          value: aggregateInMemory(mm, profile, c1, { from, to }),
        });
      }
      expect(rows).toEqual(expected);
      // By hand: c1's calls in New York's March are e1 (60) and e2 (30.5) on Mar 2, e3 (120) on Mar 3, and
      // a1 (500) at 2026-03-07T00:00Z, which is still Mar 6 in New York.
      expect(rows.filter((r) => r.series === 'calls')).toEqual([
        {
          series: 'calls',
          bucket: 'day',
          day_start: Date.parse('2026-03-02T05:00:00Z') / 1000,
          value: '90.5',
        },
        {
          series: 'calls',
          bucket: 'day',
          day_start: Date.parse('2026-03-03T05:00:00Z') / 1000,
          value: '120',
        },
        {
          series: 'calls',
          bucket: 'day',
          day_start: Date.parse('2026-03-06T05:00:00Z') / 1000,
          value: '500',
        },
        { series: 'calls', bucket: 'total', day_start: 0, value: '710.5' },
      ]);
      expect(rows.find((r) => r.series === 'calls:peak' && r.bucket === 'total')!.value).toBe('500');
      expect(rows.find((r) => r.series === 'calls:countries' && r.bucket === 'total')!.value).toBe('2');
      expect(rows.find((r) => r.series === 'ticks' && r.bucket === 'total')!.value).toBe('6');
    });
  });

  describe('topCustomers', () => {
    it('orders by the numeric usage, highest first', async () => {
      const m = meter({ aggregation: 'sum', valueProperty: 'quantity' });
      const rows = await run<TopCustomerRow>(
        topCustomers({ database, tenant: 'acme', meter: m, from: FROM, to: TO, limit: 10 }),
      );
      // c2: 1+1+3+7+8+1 = 21, c1: 1+1+2 = 4, c3: 1+1+0.5 = 2.5 (text order would put "4" first).
      expect(rows).toEqual([
        { customer: 'c2', value: '21' },
        { customer: 'c1', value: '4' },
        { customer: 'c3', value: '2.5' },
      ]);
      const top1 = await run<TopCustomerRow>(
        topCustomers({ database, tenant: 'acme', meter: m, from: FROM, to: TO, limit: 1 }),
      );
      expect(top1).toEqual([{ customer: 'c2', value: '21' }]);
    });
  });

  it('random meters and filters agree with the reference (property)', async () => {
    const property = fc.constantFrom('country', 'duration', 'region', 'quantity', 'missing');
    const scalar = fc.constantFrom<string | number>(
      'USA',
      'FR',
      '',
      'east',
      '60',
      60,
      0,
      1,
      '0.5',
      -5,
      99,
      '15.25',
    );
    const numeric = fc.constantFrom<string | number>(
      '60',
      60,
      0,
      1,
      '0.5',
      -5,
      99,
      '15.25',
      '0.000000000001',
    );
    const filter: fc.Arbitrary<Filter> = fc.oneof(
      fc.record({ property, operator: fc.constantFrom('eq' as const, 'ne' as const), value: scalar }),
      fc.record({
        property,
        operator: fc.constantFrom('in' as const, 'not_in' as const),
        value: fc.array(scalar, { minLength: 1, maxLength: 3 }),
      }),
      fc.record({
        property,
        operator: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
        value: numeric,
      }),
      fc.record({ property, operator: fc.constant('exists' as const) }),
    );
    const definition = fc
      .record({
        aggregation: fc.constantFrom<Aggregation>(
          'count',
          'sum',
          'unique_count',
          'max',
          'min',
          'latest',
          'avg',
        ),
        valueProperty: fc.constantFrom('duration', 'quantity', 'country'),
        filters: fc.array(filter, { maxLength: 3 }),
        window: fc.constantFrom<WindowSize>('none', 'day', 'hour', 'month'),
        groupByCustomer: fc.boolean(),
        groupBy: fc.subarray(['region', 'country']),
      })
      .filter(
        (d) => d.aggregation === 'unique_count' || d.aggregation === 'count' || d.valueProperty !== 'country',
      )
      // Filters with non-decimal values on "quantity" are rejected by validation; skip those.
      .filter((d) => meterParses(d));

    await fc.assert(
      fc.asyncProperty(definition, async (d) => {
        const m = meter({
          aggregation: d.aggregation,
          valueProperty: d.aggregation === 'count' ? undefined : d.valueProperty,
          filters: d.filters,
        });
        const p = params(m, {
          window: d.window,
          timezone: 'America/New_York',
          groupByCustomer: d.groupByCustomer,
          groupBy: d.groupBy,
        });
        expect(await run<MeterRow>(meterQuery(p))).toEqual(meterRowsInMemory(p, ACME));
      }),
      { numRuns: 60 },
    );
  });
});

function meterParses(d: { aggregation: string; valueProperty: string; filters: Filter[] }): boolean {
  try {
    meter({
      aggregation: d.aggregation as never,
      valueProperty: d.aggregation === 'count' ? undefined : d.valueProperty,
      filters: d.filters,
    });
    return true;
  } catch {
    return false;
  }
}
