/**
 * Property: on random events sent through the writer's own dedup path (`BatchWriter` and the
 * ClickHouse event store), in random batches, with duplicates (redelivered messages, retried events)
 * and late events (older than what was already stored), every answer from the hourly roll-up equals
 * the scan of `events` and the in-memory reference over the deduplicated events.
 */
import {
  type BucketRow,
  customerPeriodUsage,
  identifier,
  meterQuery,
  rollupBuckets,
  rollupMeterQuery,
  rollupTopCustomers,
  seriesUsesRollup,
  sql,
  topCustomers,
} from '@tally/clickhouse';
import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import type { UsageEvent } from '@tally/event-schema';
import { BatchWriter, ClickHouseEventStore, type InboundMessage } from '@tally/ingest';
import { encodeBatchMessage } from '@tally/ingest-protocol';
import {
  aggregateInMemory,
  type MeterDefinition,
  type MeterEvent,
  meterRowsInMemory,
  parseMeterDefinition,
  resolveSeries,
  type WindowSize,
} from '@tally/metering';
import { createLogger } from '@tally/observability';
import fc from 'fast-check';
import { localDayStarts } from '@tally/billing-periods';
import { monthsOf, rangeUsesRollup } from './eligibility';
import { RollupCoverage } from './rollup-coverage';
import { seriesValue } from './series-value';

const CUSTOMERS = ['a', 'b', "c'\\ü"];
const TYPES = ['call', 'sms'];
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'Asia/Kolkata'];
const AGGREGATIONS = ['count', 'sum', 'min', 'max', 'avg'] as const;
// Late February to early April 2026: two month boundaries and the New York and Berlin spring changes.
const START = Date.UTC(2026, 1, 25);
const HOURS = 40 * 24;

const quantity = fc
  .tuple(fc.integer({ min: -5_000_000, max: 50_000_000 }), fc.integer({ min: 0, max: 12 }))
  .map(([n, scale]) => {
    const digits = String(Math.abs(n)).padStart(scale + 1, '0');
    const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
    return n < 0 ? `-${text}` : text;
  });

const eventArb = fc.record({
  customer: fc.constantFrom(...CUSTOMERS),
  type: fc.constantFrom(...TYPES),
  ts: fc.integer({ min: START, max: START + HOURS * 3600_000 - 1 }),
  quantity,
});

/** Events (ids assigned), split into two phases of batches, with repeats of earlier events mixed in. */
const datasetArb = fc
  .record({
    events: fc.array(eventArb, { minLength: 5, maxLength: 80 }),
    split: fc.integer({ min: 0, max: 60 }),
    repeats: fc.array(fc.nat(), { maxLength: 15 }),
    batch: fc.integer({ min: 8, max: 40 }),
  })
  .map(({ events, split, repeats, batch }) => {
    const withIds = events.map((e, i) => ({ ...e, id: `e${i}` }));
    // Phase 2 holds the later-indexed events; sorted by time descending they arrive "late".
    const phase1 = withIds.slice(0, Math.min(split, withIds.length));
    const phase2 = withIds.slice(phase1.length).sort((x, y) => y.ts - x.ts);
    const again = repeats.map((r) => withIds[r % withIds.length]);
    return { all: withIds, phase1, phase2: [...phase2, ...again], batch };
  });

const queryArb = fc.record({
  types: fc.subarray(TYPES, { minLength: 1 }),
  fromHour: fc.integer({ min: 0, max: HOURS - 1 }),
  hours: fc.integer({ min: 1, max: HOURS }),
  window: fc.constantFrom<WindowSize>('none', 'hour', 'day', 'month'),
  zone: fc.constantFrom(...ZONES),
  customers: fc.option(fc.subarray(CUSTOMERS, { minLength: 1 }), { nil: undefined }),
  perCustomer: fc.boolean(),
  periodCustomer: fc.constantFrom(...CUSTOMERS),
});

type Query = typeof queryArb extends fc.Arbitrary<infer T> ? T : never;
type Row = Record<string, string | number | undefined>;
const normalize = (rows: Row[]) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])));

describe('roll-ups equal the scan and the reference (property, real ClickHouse)', () => {
  let db: TestDatabase;
  let writer: BatchWriter;
  let run = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    writer = new BatchWriter(
      new ClickHouseEventStore(db.client),
      { publish: async () => undefined },
      { check: () => undefined },
    );
  });
  afterAll(() => db?.drop());

  const send = async (
    tenant: string,
    events: Array<{ id: string; customer: string; type: string; ts: number; quantity: string }>,
    batch: number,
  ) => {
    for (let i = 0; i < events.length; i += batch) {
      const usageEvents: UsageEvent[] = events.slice(i, i + batch).map((e) => ({
        id: e.id,
        idGenerated: false,
        ts: e.ts,
        customer: e.customer,
        type: e.type,
        quantity: e.quantity,
        properties: {},
        source: '',
        schemaVersion: '1',
        requestId: '',
      }));
      const message: InboundMessage = {
        data: encodeBatchMessage({ v: 1, tenant, receivedAt: Date.now(), events: usageEvents }),
        streamSeq: i + 1,
        deliveryCount: 1,
        publishedAt: Date.now(),
        subjectTenant: tenant,
      };
      await writer.write([message]);
      if (i === 0) {
        // Delivered again, as JetStream does after a lost ack: the second delivery must store nothing.
        const again = await writer.write([{ ...message, deliveryCount: 2 }]);
        expect(again.inserted).toBe(0);
      }
    }
  };

  const check = async (tenant: string, stored: MeterEvent[], q: Query) => {
    await Promise.all(AGGREGATIONS.map((aggregation) => checkOne(tenant, stored, q, aggregation)));
  };

  const checkOne = async (
    tenant: string,
    stored: MeterEvent[],
    q: Query,
    aggregation: (typeof AGGREGATIONS)[number],
  ) => {
    const meter: MeterDefinition = parseMeterDefinition({
      key: 'm',
      name: 'm',
      eventTypes: q.types,
      aggregation,
      ...(aggregation === 'count' ? {} : { valueProperty: 'quantity' }),
    });
    const series = resolveSeries(meter);
    expect(seriesUsesRollup(series)).toBe(true);
    const from = new Date(START + q.fromHour * 3600_000);
    const to = new Date(Math.min(from.getTime() + q.hours * 3600_000, START + HOURS * 3600_000 + 3600_000));
    const usable = rangeUsesRollup(from, to, q.window, q.zone);
    // Half-hour zones cannot be answered from hourly buckets, except without windows.
    expect(usable).toBe(q.zone !== 'Asia/Kolkata' || q.window === 'none');
    const base = {
      database: db.database,
      tenant,
      from,
      to,
      timezone: q.zone,
      customers: q.customers,
      groupByCustomer: q.perCustomer,
      limit: 100_000,
    };
    const expected = normalize(
      meterRowsInMemory({ ...base, meter, window: q.window }, stored) as unknown as Row[],
    );
    const scanned = normalize(
      await db.client.query<Row>(meterQuery({ ...base, meter, window: q.window }), {
        exactNumbers: true,
      }),
    );
    expect(scanned).toEqual(expected);
    if (usable) {
      const rolled = await db.client.query<Row>(
        rollupMeterQuery({ ...base, series, window: q.window as Exclude<WindowSize, 'minute'> }),
        { exactNumbers: true },
      );
      expect(normalize(rolled)).toEqual(expected);
      if (q.window === 'none') {
        // Whole UTC days from the daily roll-up, the hours at the ends from the hour-first one; also
        // over the hours of the first and the last stored event, so that both ends hold events.
        const tiered = await db.client.query<Row>(
          rollupMeterQuery({ ...base, series, window: 'none', tiered: true }),
          {
            exactNumbers: true,
          },
        );
        expect(normalize(tiered)).toEqual(expected);
        if (stored.length) {
          const times = stored.map((e) => e.ts);
          const ends = {
            from: new Date(Math.floor(Math.min(...times) / 3600_000) * 3600_000),
            to: new Date(Math.floor(Math.max(...times) / 3600_000) * 3600_000 + 3600_000),
          };
          const wide = await db.client.query<Row>(
            rollupMeterQuery({ ...base, ...ends, series, window: 'none', tiered: true }),
            { exactNumbers: true },
          );
          expect(normalize(wide)).toEqual(
            normalize(
              meterRowsInMemory({ ...base, ...ends, meter, window: 'none' }, stored) as unknown as Row[],
            ),
          );
        }
      }
    }

    // A customer's period usage (total and per local day) from its buckets, and the top customers.
    if (rangeUsesRollup(from, to, 'day', q.zone)) {
      const period = {
        database: db.database,
        tenant,
        customer: q.periodCustomer,
        from,
        to,
        timezone: q.zone,
      };
      const scannedPeriod = await db.client.query<Row>(customerPeriodUsage({ ...period, meters: [meter] }), {
        exactNumbers: true,
      });
      const buckets = await db.client.query<BucketRow>(
        rollupBuckets({ ...period, eventTypes: TYPES, byDayIn: q.zone }),
        { exactNumbers: true },
      );
      const fromBuckets: Row[] = [
        { series: 'm', bucket: 'total', day_start: '0', value: seriesValue(series, buckets) },
      ];
      const days = [
        ...new Set(
          buckets.filter((b) => series.eventTypes.includes(b.event_type)).map((b) => Number(b.day_start)),
        ),
      ].sort((a, b) => a - b);
      for (const day of days) {
        fromBuckets.push({
          series: 'm',
          bucket: 'day',
          day_start: String(day),
          value: seriesValue(
            series,
            buckets.filter((b) => Number(b.day_start) === day),
          ),
        });
      }
      expect(normalize(fromBuckets)).toEqual(
        normalize(scannedPeriod).sort((a, b) =>
          a.bucket === b.bucket ? Number(a.day_start) - Number(b.day_start) : a.bucket === 'total' ? -1 : 1,
        ),
      );
      expect(fromBuckets[0].value).toBe(
        aggregateInMemory(meter, undefined, stored, { from, to, customers: [q.periodCustomer] }),
      );
      const local = new Set(localDayStarts(from, to, q.zone).map(String));
      for (const day of days) expect(local.has(String(day))).toBe(true);
    }
    const top = { database: db.database, tenant, from, to, limit: 2 };
    const scannedTop = await db.client.query<Row>(topCustomers({ ...top, meter }), {
      exactNumbers: true,
    });
    const rolledTop = await db.client.query<Row>(rollupTopCustomers({ ...top, series }), {
      exactNumbers: true,
    });
    expect(normalize(rolledTop)).toEqual(normalize(scannedTop));
    const tieredTop = await db.client.query<Row>(rollupTopCustomers({ ...top, series, tiered: true }), {
      exactNumbers: true,
    });
    expect(normalize(tieredTop)).toEqual(normalize(scannedTop));
  };

  it('for count, sum, min, max and avg of quantity, any window, zone, range and customers', async () => {
    await fc.assert(
      fc.asyncProperty(
        datasetArb,
        fc.array(queryArb, { minLength: 1, maxLength: 2 }),
        async (data, queries) => {
          const tenant = `p${++run}`;
          const toMeterEvent = (e: (typeof data.all)[number]): MeterEvent => ({ ...e, properties: {} });
          await send(tenant, data.phase1, data.batch);
          const phase1 = data.phase1.map(toMeterEvent);
          await check(tenant, phase1, queries[0]);
          await send(tenant, data.phase2, data.batch);
          const stored = [...new Map(data.all.map((e) => [e.id, toMeterEvent(e)])).values()];
          const [{ n }] = await db.client.query<{ n: string }>(
            sql`SELECT toString(count()) AS n FROM ${identifier(db.database, 'events')} WHERE tenant = ${tenant}`,
          );
          expect(Number(n)).toBe(stored.length); // each event once, whatever was repeated
          for (const q of queries) await check(tenant, stored, q);
        },
      ),
      // Every run writes to ClickHouse: report the first counterexample instead of shrinking for minutes.
      { numRuns: 10, endOnFailure: true },
    );
    // Everything went through the view: every month is covered.
    const coverage = new RollupCoverage(db.client, createLogger('test', 'silent'), 0);
    await coverage.refresh();
    const months = monthsOf(new Date(START), new Date(START + HOURS * 3600_000));
    expect(coverage.covers(months, ['usage_hourly', 'usage_daily', 'usage_hourly_by_time'])).toBe(true);
  });

  it('does not trust a month the view missed until it is backfilled', async () => {
    const mv = identifier(db.database, 'usage_hourly_mv');
    const tenant = 'missed';
    await db.client.command(sql`DETACH TABLE ${mv}`);
    try {
      await send(
        tenant,
        [{ id: 'x1', customer: 'a', type: 'call', ts: Date.UTC(2026, 5, 10), quantity: '5' }],
        1,
      );
    } finally {
      await db.client.command(sql`ATTACH TABLE ${mv}`);
    }
    await send(
      tenant,
      [{ id: 'x2', customer: 'a', type: 'call', ts: Date.UTC(2026, 6, 10), quantity: '7' }],
      1,
    );
    const coverage = new RollupCoverage(db.client, createLogger('test', 'silent'), 0);
    await coverage.refresh();
    expect(coverage.covers([202606])).toBe(false);
    expect(coverage.covers([202607])).toBe(true);
    expect(coverage.covers([202606, 202607])).toBe(false);
    expect(coverage.covers([202606], ['usage_daily', 'usage_hourly_by_time'])).toBe(true); // their views saw it

    // The backfill of docs/usage-api.md: rebuild the month from events.
    await db.client.command(
      sql`ALTER TABLE ${identifier(db.database, 'usage_hourly')} DROP PARTITION 202606`,
    );
    await db.client.command(
      sql`INSERT INTO ${identifier(db.database, 'usage_hourly')} SELECT tenant, event_type, customer, toStartOfHour(ts) AS hour, countState() AS events, sumState(quantity) AS quantity_sum, minState(quantity) AS quantity_min, maxState(quantity) AS quantity_max FROM ${identifier(db.database, 'events')} WHERE toYYYYMM(ts) = 202606 GROUP BY tenant, event_type, customer, hour`,
    );
    await coverage.refresh();
    expect(coverage.covers([202606, 202607])).toBe(true);
  });
});
