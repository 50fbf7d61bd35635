/**
 * What the demo puts in the catalog and sends: fixed, so that a second `npm start` finds the same
 * entities and sends the same event ids (stored once), and so that a test can compute the invoices by
 * hand. Nothing here talks to a service; `demo.ts` does.
 */
import { addMonths, formatPeriod, localDateOf, parsePeriod } from '@tally/billing-periods';

export interface DemoCustomer {
  id: string;
  name: string;
  timezone: string;
  plan: string;
  /** How the demo sends this customer's events: the SDK over HTTP or over NATS. */
  transport: 'http' | 'nats';
  /** Last month's usage: `calls` api_call events, or `tokenEvents` tokens events of `tokensEach`. */
  calls?: number;
  tokenEvents?: number;
  tokensEach?: number;
  /** Data points written to the Analytics Engine dataset, per endpoint. */
  points: Record<string, number>;
}

export const DEMO_METERS = [
  {
    key: 'api_calls',
    name: 'API calls',
    eventTypes: ['api_call'],
    aggregation: 'count',
    groupBy: ['endpoint'],
  },
  {
    key: 'tokens',
    name: 'Tokens',
    eventTypes: ['tokens'],
    aggregation: 'sum',
    valueProperty: 'quantity',
    groupBy: ['endpoint'],
  },
] as const;

/** A flat fee with graduated calls, and graduated tokens with a minimum commitment. */
export const DEMO_PLANS = [
  {
    id: 'starter',
    name: 'Starter',
    currency: 'USD',
    charges: [
      { id: 'platform', name: 'Platform fee', kind: 'flat', amount: '49' },
      {
        id: 'calls',
        name: 'API calls',
        kind: 'graduated',
        meter: 'api_calls',
        tiers: [
          { upTo: '100', unitPrice: '0' },
          { upTo: '1000', unitPrice: '0.01' },
          { upTo: null, unitPrice: '0.005' },
        ],
      },
    ],
  },
  {
    id: 'scale',
    name: 'Scale',
    currency: 'USD',
    minimumCommitment: '100',
    charges: [
      {
        id: 'tokens',
        name: 'Tokens',
        kind: 'graduated',
        meter: 'tokens',
        tiers: [
          { upTo: '10000', unitPrice: '0.001' },
          { upTo: null, unitPrice: '0.0005' },
        ],
      },
    ],
  },
] as const;

export const DEMO_CUSTOMERS: DemoCustomer[] = [
  {
    id: 'acme',
    name: 'Acme Corp',
    timezone: 'America/New_York',
    plan: 'starter',
    transport: 'http',
    calls: 600,
    points: { '/search': 20, '/render': 15, '/export': 5 },
  },
  {
    id: 'globex',
    name: 'Globex GmbH',
    timezone: 'Europe/Berlin',
    plan: 'starter',
    transport: 'nats',
    calls: 1500,
    points: { '/search': 12, '/render': 13 },
  },
  {
    id: 'initech',
    name: 'Initech KK',
    timezone: 'Asia/Tokyo',
    plan: 'scale',
    transport: 'http',
    tokenEvents: 30,
    tokensEach: 1000,
    points: { '/export': 10 },
  },
];

/** The customer who gets the late events, and how many (api calls into the closed month). */
export const LATE_CUSTOMER = 'acme';
export const LATE_CALLS = 25;
/** This month's events per customer (not billed yet: the usage API shows them). */
export const THIS_MONTH_EVENTS = 100;

const ENDPOINTS = ['/search', '/render', '/export'];

export interface DemoEvent {
  eventId: string;
  customerId: string;
  metricName: string;
  quantity?: string;
  dimensions: Record<string, string>;
  timestamp: string;
}

/** `YYYY-MM` of the month before the current one in the zone that is furthest behind. */
export function lastMonth(nowMs: number, zones: string[]): string {
  const current = zones.map((z) => localDateOf(nowMs, z).slice(0, 7)).sort()[0];
  return formatPeriod(addMonths(parsePeriod(current), -1));
}

/**
 * A time inside `period` that is inside it in every zone: days 2 to 27 at 12:mm:ss UTC.
 * `i` spreads events over the days.
 */
function inPeriod(period: string, i: number): string {
  const day = 2 + (i % 26);
  const minute = Math.floor(i / 26) % 60;
  const second = i % 60;
  return `${period}-${String(day).padStart(2, '0')}T12:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}Z`;
}

/** Last month's events of one customer (ids `demo-<period>-<customer>-<n>`). */
export function lastMonthEvents(c: DemoCustomer, period: string): DemoEvent[] {
  const out: DemoEvent[] = [];
  for (let i = 0; i < (c.calls ?? 0); i++) {
    out.push({
      eventId: `demo-${period}-${c.id}-${i}`,
      customerId: c.id,
      metricName: 'api_call',
      dimensions: { endpoint: ENDPOINTS[i % 3] },
      timestamp: inPeriod(period, i),
    });
  }
  for (let i = 0; i < (c.tokenEvents ?? 0); i++) {
    out.push({
      eventId: `demo-${period}-${c.id}-t${i}`,
      customerId: c.id,
      metricName: 'tokens',
      quantity: String(c.tokensEach ?? 1),
      dimensions: { endpoint: ENDPOINTS[i % 3] },
      timestamp: inPeriod(period, i),
    });
  }
  return out;
}

/**
 * This month's events: within the last ten minutes (never before `notBeforeMs`, the start of the
 * current month in the zone furthest behind, so none of them falls into the billed month), with ids
 * fixed per run minute so a restart a minute later adds a few more.
 */
export function thisMonthEvents(c: DemoCustomer, nowMs: number, notBeforeMs: number): DemoEvent[] {
  const minute = Math.floor(nowMs / 60_000);
  const out: DemoEvent[] = [];
  for (let i = 0; i < THIS_MONTH_EVENTS; i++) {
    const ts = Math.max(notBeforeMs, nowMs - 600_000 + i * 5_000);
    const tokens = c.tokenEvents !== undefined;
    out.push({
      eventId: `demo-now-${minute}-${c.id}-${i}`,
      customerId: c.id,
      metricName: tokens ? 'tokens' : 'api_call',
      ...(tokens ? { quantity: String(c.tokensEach ?? 1) } : {}),
      dimensions: { endpoint: ENDPOINTS[i % 3] },
      timestamp: new Date(ts).toISOString(),
    });
  }
  return out;
}

/** The late events: api calls on day 28 of the closed month, after its invoice was issued. */
export function lateEvents(period: string): DemoEvent[] {
  return Array.from({ length: LATE_CALLS }, (_, i) => ({
    eventId: `demo-late-${period}-${LATE_CUSTOMER}-${i}`,
    customerId: LATE_CUSTOMER,
    metricName: 'api_call',
    dimensions: { endpoint: '/search' },
    timestamp: `${period}-27T18:00:${String(i).padStart(2, '0')}Z`,
  }));
}

/** Analytics Engine data points of last month (Cloudflare's usage-billing example, ids fixed). */
export function dataPoints(
  period: string,
): Array<{ id: string; indexes: string[]; blobs: string[]; timestamp: number }> {
  const out: Array<{ id: string; indexes: string[]; blobs: string[]; timestamp: number }> = [];
  for (const c of DEMO_CUSTOMERS) {
    let n = 0;
    for (const [endpoint, count] of Object.entries(c.points)) {
      for (let i = 0; i < count; i++, n++) {
        out.push({
          id: `demo-${period}-${c.id}-p${n}`,
          indexes: [c.id],
          blobs: [endpoint],
          timestamp: Date.parse(inPeriod(period, n)),
        });
      }
    }
  }
  return out;
}

/** Cloudflare's usage-billing queries (docs: "Usage-based billing"), with last month's dates. */
export function seedQueries(
  period: string,
  nextPeriod: string,
  customer: string,
): Array<{ title: string; sql: string }> {
  const range = `timestamp >= toDateTime('${period}-01 00:00:00')\n  AND timestamp < toDateTime('${nextPeriod}-01 00:00:00')`;
  return [
    {
      title: 'usage per customer over all endpoints ("which customers are most active?")',
      sql: 'SELECT\n  index1 AS customer_id,\n  sum(_sample_interval) AS count\nFROM\n  usage_indexed_by_customer_id\nGROUP BY customer_id\nORDER BY customer_id',
    },
    {
      title: 'usage per customer and endpoint',
      sql: 'SELECT\n  index1 AS customer_id,\n  blob1 AS request_endpoint,\n  sum(_sample_interval) AS count\nFROM\n  usage_indexed_by_customer_id\nGROUP BY customer_id, request_endpoint\nORDER BY customer_id, request_endpoint',
    },
    {
      title: `one customer's month, for a bill (${customer}, ${period})`,
      sql: `SELECT\n  index1 AS customer_id,\n  blob1 AS request_endpoint,\n  sum(_sample_interval) AS usage_count\nFROM\n  usage_indexed_by_customer_id\nWHERE\n  customer_id = '${customer}'\n  AND ${range}\nGROUP BY customer_id, request_endpoint\nORDER BY request_endpoint`,
    },
    {
      title: `the same per day (${customer}, ${period}, first 5 rows)`,
      sql: `SELECT\n  index1 AS customer_id,\n  toStartOfInterval(timestamp, INTERVAL '1' DAY) AS date,\n  blob1 AS request_endpoint,\n  sum(_sample_interval) AS request_count\nFROM\n  usage_indexed_by_customer_id\nWHERE\n  customer_id = '${customer}'\n  AND ${range}\nGROUP BY customer_id, date, request_endpoint\nORDER BY date, request_endpoint\nLIMIT 5`,
    },
  ];
}

export function nextMonth(period: string): string {
  return formatPeriod(addMonths(parsePeriod(period), 1));
}
