/**
 * The data both engines are loaded with: usage events of one tenant over two spring DST changes
 * (America/New_York on 2026-03-08, Europe/Berlin on 2026-03-29) and the autumn one of 2025
 * (America/New_York on 2025-11-02), with properties that exercise every filter and group-by path
 * (absent, empty, numeric, non-numeric, negative, 12 fraction digits), and the meters that read them.
 * Deterministic: the same rows every run.
 */
import type { EventRow } from '@tally/clickhouse';
import { parseMeterDefinition, type Filter, type MeterDefinition } from '@tally/metering';

export const TENANT = 'acme';
export const OTHER_TENANT = 'globex';
export const CUSTOMERS = ['cust_a', 'cust_b', 'cust_c', 'cust_d'] as const;
export const EVENT_TYPES = ['api_call', 'tokens', 'storage'] as const;

/** The range the fixture covers, whole UTC days. */
export const FROM = new Date('2025-10-30T00:00:00Z');
export const TO = new Date('2026-04-03T00:00:00Z');

/** Zones: UTC, two with DST changes inside the range, one with a half-hour offset. */
export const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata'] as const;

/** Instants around the DST changes (UTC), with events spread over the hours either side. */
const ANCHORS = [
  '2025-11-02T05:00:00Z', // New York falls back (06:00 UTC)
  '2026-03-08T06:30:00Z', // New York springs forward (07:00 UTC)
  '2026-03-29T00:30:00Z', // Berlin springs forward (01:00 UTC)
  '2026-03-31T22:15:00Z', // month end in UTC, already April in Berlin and Kolkata
  '2026-02-28T23:45:00Z', // month end, already March in Kolkata
];

// A small linear congruential generator: the fixture is the same on every run and machine.
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const REGIONS = ['us', 'eu', '', undefined, 'apac'] as const;
const MODELS = ['small', 'large', undefined] as const;
const TOKEN_VALUES = [
  '12',
  '7.5',
  '-3',
  'abc',
  '0.000000000001',
  '100000000000000000000.5',
  '',
  '1e3',
  '42',
] as const;
const QUANTITIES = [
  '1',
  '2.5',
  '0',
  '10',
  '0.123456789012',
  '-1.25',
  '99999999999999.999999999999',
  '3',
] as const;

/** The fixture's event rows, in the writer's `EventRow` shape. */
export function fixtureEvents(): EventRow[] {
  const random = generator(20260308);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const rows: EventRow[] = [];
  let n = 0;
  const add = (tenant: string, ms: number) => {
    const region = pick(REGIONS);
    const model = pick(MODELS);
    const tokens = pick(TOKEN_VALUES);
    const properties: Record<string, string> = {};
    if (region !== undefined) properties.region = region;
    if (model !== undefined) properties.model = model;
    if (random() < 0.8) properties.tokens = tokens;
    if (random() < 0.5) properties.user = `u${Math.floor(random() * 6)}`;
    n++;
    rows.push({
      tenant,
      customer: pick(CUSTOMERS),
      eventType: pick(EVENT_TYPES),
      ts: Math.floor(ms / 1000),
      tsMs: ms % 1000,
      eventId: `evt_${String(n).padStart(5, '0')}`,
      quantity: pick(QUANTITIES),
      properties,
      source: 'parity',
      schemaVersion: '1',
      requestId: `req_${n}`,
      receivedAt: Math.floor(ms / 1000) + 1,
      payloadHash: `hash_${n}`,
    });
  };
  for (const anchor of ANCHORS) {
    const base = Date.parse(anchor);
    // Every 7 to 90 minutes over 26 hours either side of the anchor.
    for (
      let t = base - 26 * 3600_000;
      t < base + 26 * 3600_000;
      t += Math.floor(7 + random() * 83) * 60_000
    ) {
      add(TENANT, t + Math.floor(random() * 60_000));
    }
  }
  // Same-millisecond events of one customer (the `latest` tie-break) and another tenant's events (never counted).
  const tie = Date.parse('2026-03-08T06:59:59.500Z');
  for (let i = 0; i < 3; i++) add(TENANT, tie);
  for (let i = 0; i < 20; i++) add(OTHER_TENANT, Date.parse('2026-03-08T00:00:00Z') + i * 3600_000);
  return rows;
}

function meter(input: unknown): MeterDefinition {
  return parseMeterDefinition(input);
}

/** One meter per aggregation over the quantity, and the property-valued ones, with profiles. */
export function fixtureMeters(): MeterDefinition[] {
  return [
    meter({
      key: 'calls',
      name: 'API calls',
      eventTypes: ['api_call'],
      aggregation: 'count',
      groupBy: ['region', 'model'],
      profiles: [
        {
          key: 'eu',
          name: 'EU calls',
          aggregation: 'count',
          filters: [{ property: 'region', operator: 'eq', value: 'eu' }],
        },
        { key: 'users', name: 'Distinct users', aggregation: 'unique_count', valueProperty: 'user' },
      ],
    }),
    meter({
      key: 'qty_sum',
      name: 'Sum',
      eventTypes: ['api_call', 'storage'],
      aggregation: 'sum',
      valueProperty: 'quantity',
      groupBy: ['region'],
    }),
    meter({
      key: 'qty_max',
      name: 'Max',
      eventTypes: ['storage'],
      aggregation: 'max',
      valueProperty: 'quantity',
      groupBy: ['region'],
    }),
    meter({
      key: 'qty_min',
      name: 'Min',
      eventTypes: ['storage'],
      aggregation: 'min',
      valueProperty: 'quantity',
      groupBy: ['region'],
    }),
    meter({
      key: 'qty_avg',
      name: 'Avg',
      eventTypes: ['tokens', 'storage'],
      aggregation: 'avg',
      valueProperty: 'quantity',
      groupBy: ['model'],
    }),
    meter({
      key: 'qty_latest',
      name: 'Latest',
      eventTypes: ['storage'],
      aggregation: 'latest',
      valueProperty: 'quantity',
      groupBy: ['region'],
    }),
    meter({
      key: 'qty_unique',
      name: 'Unique quantities',
      eventTypes: ['api_call'],
      aggregation: 'unique_count',
      valueProperty: 'quantity',
      groupBy: ['region'],
    }),
    meter({
      key: 'tokens',
      name: 'Tokens',
      eventTypes: ['tokens', 'api_call'],
      aggregation: 'sum',
      valueProperty: 'tokens',
      groupBy: ['model', 'region'],
      filters: [{ property: 'model', operator: 'exists' }],
      profiles: [
        { key: 'peak', name: 'Peak', aggregation: 'max', valueProperty: 'tokens' },
        { key: 'low', name: 'Lowest', aggregation: 'min', valueProperty: 'tokens' },
        { key: 'mean', name: 'Mean', aggregation: 'avg', valueProperty: 'tokens' },
        { key: 'last', name: 'Last', aggregation: 'latest', valueProperty: 'tokens' },
        {
          key: 'large',
          name: 'Large model',
          aggregation: 'sum',
          valueProperty: 'tokens',
          filters: [{ property: 'model', operator: 'in', value: ['large'] }],
        },
      ],
    }),
    meter({
      key: 'users',
      name: 'Users',
      eventTypes: ['api_call', 'tokens', 'storage'],
      aggregation: 'unique_count',
      valueProperty: 'user',
      groupBy: ['region'],
    }),
  ];
}

/** Every filter operator, on a property (string and numeric forms, the empty string) and on quantity. */
export function fixtureFilters(): Filter[] {
  return [
    { property: 'region', operator: 'eq', value: 'eu' },
    { property: 'region', operator: 'eq', value: '' },
    { property: ['region'], operator: 'ne', value: 'us' },
    { property: 'region', operator: 'ne', value: '' },
    { property: 'region', operator: 'in', value: ['us', 'apac'] },
    { property: 'region', operator: 'in', value: ['', 'eu'] },
    { property: 'region', operator: 'not_in', value: ['us'] },
    { property: 'region', operator: 'not_in', value: ['', 'apac'] },
    { property: 'region', operator: 'exists' },
    { property: 'tokens', operator: 'eq', value: 42 },
    { property: 'tokens', operator: 'gt', value: 10 },
    { property: 'tokens', operator: 'gte', value: '7.5' },
    { property: 'tokens', operator: 'lt', value: 0 },
    { property: 'tokens', operator: 'lte', value: '0.000000000001' },
    { property: 'quantity', operator: 'eq', value: '2.5' },
    { property: 'quantity', operator: 'ne', value: 0 },
    { property: 'quantity', operator: 'gt', value: 1 },
    { property: 'quantity', operator: 'gte', value: '10' },
    { property: 'quantity', operator: 'lt', value: '0.123456789012' },
    { property: 'quantity', operator: 'lte', value: 3 },
    { property: 'quantity', operator: 'in', value: [1, '2.5', '99999999999999.999999999999'] },
    { property: 'quantity', operator: 'not_in', value: ['0', 10] },
    { property: 'quantity', operator: 'exists' },
  ];
}
