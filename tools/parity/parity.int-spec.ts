/**
 * ClickHouse 26.7 (chDB, in-process) beside ClickHouse 18.16 (the running clickhouse-server): every
 * kind of SQL Tally emits runs on both against the same fixture, loaded through Tally's own encoders,
 * and the answers must be identical after the normalisation documented in compare.ts.
 * docs/clickhouse.md, "Engine versions and the parity suite".
 */
import { EMITTED_FUNCTION_NAMES } from '@tally/analytics-engine';
import { SEED_000_QUERIES, SEED_001_QUERIES } from '@tally/analytics-engine/testing';
import { SqlApiService } from '@tally/analytics-api';
import { computeInvoice, InvoiceLedger, SimulationResultStore } from '@tally/billing';
import type { CustomerSimulation } from '@tally/billing-contracts';
import { customerPeriod } from '@tally/billing-periods';
import * as quote from '@tally/clickhouse';
import {
  billingUsageQuery,
  compileAnalyticsSql,
  currentFence,
  customerPeriodUsage,
  encodeEventRows,
  findExistingIds,
  insertFenced,
  identifier,
  insertEvents,
  meterQuery,
  raw,
  recordedMigrationsSql,
  ROLLUP_TABLES,
  rollupBuckets,
  rollupCoverage,
  rollupMeterQuery,
  rollupTables,
  rollupTopCustomers,
  seriesTotals,
  seriesUsesRollup,
  sql,
  takeOverPartition,
  topCustomers,
  trimDecimalText,
  usageFingerprintQuery,
  writeFenceSql,
} from '@tally/clickhouse';
import { ClickHousePointStore } from '@tally/ingest';
import {
  AGGREGATIONS,
  allSeries,
  FILTER_OPERATORS,
  WINDOW_SIZES,
  type MeterDefinition,
  type Series,
} from '@tally/metering';
import { createLogger } from '@tally/observability';
import { RollupCoverage } from '@tally/usage';
import { DATASET, fixturePoints, GENERATION_FORMS, POINTS_TENANT } from './analytics-fixture';
import type { Difference } from './compare';
import { BUILDERS } from './coverage';
import { compareFormatted, DualClickHouse, ParityAnalyticsRunner, ParityLedger } from './engines';
import {
  CUSTOMERS,
  EVENT_TYPES,
  fixtureEvents,
  fixtureFilters,
  fixtureMeters,
  FROM,
  TENANT,
  TO,
  ZONES,
} from './fixture';
import { applySchema, startParitySuite, type ParitySuite } from './parity-suite';

jest.setTimeout(600_000);

function describeDifferences(differences: readonly Difference[]): string {
  return differences
    .slice(0, 5)
    .map(
      (d) =>
        `[${d.label}] ${d.reason}\n  SQL: ${d.sql.slice(0, 600)}\n  18.16: ${d.legacy.error ?? d.legacy.rows?.slice(0, 300)}\n  26.7: ${d.modern.error ?? d.modern.rows?.slice(0, 300)}`,
    )
    .join('\n');
}

describe('ClickHouse 18.16 and 26.7 (chDB) give the same answers to Tally SQL', () => {
  let suite: ParitySuite;
  const meters = fixtureMeters();
  const events = fixtureEvents();

  /** Runs `section` with the ledger labelled, then fails on any difference it recorded. */
  async function section(label: string, body: () => Promise<void>): Promise<number> {
    suite.ledger.label = label;
    const before = suite.ledger.differences.length;
    const entries = suite.ledger.entries.length;
    await body();
    const found = suite.ledger.differences.slice(before);
    if (found.length)
      throw new Error(`${found.length} difference(s) in ${label}:\n${describeDifferences(found)}`);
    return suite.ledger.entries.length - entries;
  }

  beforeAll(async () => {
    suite = await startParitySuite();
  });

  afterAll(async () => {
    if (!suite) return;
    console.log(suite.ledger.summary());
    await suite.close();
  });

  it('runs ClickHouse 18.16 and 26.7', async () => {
    expect(await suite.legacy.serverVersion()).toMatch(/^18\.16\./);
    expect(suite.modern.version()).toMatch(/^26\.7\./);
  });

  it('applies the single-server schema render on both, with the same tables and columns', async () => {
    await section('schema render', () => applySchema(suite));
    expect(suite.ledger.count('statement')).toBe(suite.schemaStatements.length);
    await section('schema', async () => {
      // Engines are printed differently per generation (26.7 adds settings to engine_full); names and
      // column types must agree.
      await suite.ch.compareSelect(
        sql`SELECT name, engine FROM system.tables WHERE database = ${suite.database} ORDER BY name`,
      );
      await suite.ch.compareSelect(
        sql`SELECT table, name, type, default_kind, default_expression FROM system.columns WHERE database = ${suite.database} ORDER BY table, name`,
      );
    });
    // The render records every migration (recordMigrationSql, above); migrate() reads them back with this.
    await section('schema render', async () => {
      await suite.ch.compareSelect(recordedMigrationsSql(suite.database));
    });
  });

  it("stores the writer's RowBinary rows and JSONEachRow rows identically, views included", async () => {
    await section('event inserts', async () => {
      const half = Math.floor(events.length / 2);
      await insertEvents(suite.ch, suite.database, events.slice(0, half)); // RowBinary, as the writer sends
      await insertEvents(suite.ch, suite.database, events.slice(half), { format: 'JSONEachRow' });
      const table = (name: string) => identifier(suite.database, name);
      await suite.ch.compareSelect(
        sql`SELECT tenant, customer, event_type, ts, ts_ms, event_id, quantity, properties.key, properties.value, source, schema_version, request_id, received_at, payload_hash FROM ${table('events')} ORDER BY tenant, event_id`,
      );
      await suite.ch.compareSelect(sql`SELECT count() AS n FROM ${table('events')}`);
      await suite.ch.compareSelect(
        sql`SELECT tenant, event_id, payload_hash FROM ${table('event_ids')} ORDER BY tenant, event_id`,
      );
      for (const [name, time] of [
        ['usage_hourly', 'hour'],
        ['usage_hourly_by_time', 'hour'],
        ['usage_daily', 'day'],
      ] as const) {
        await suite.ch.compareSelect(
          sql`SELECT tenant, event_type, customer, ${identifier(time)} AS t, countMerge(events) AS events, sumMerge(quantity_sum) AS qsum, minMerge(quantity_min) AS qmin, maxMerge(quantity_max) AS qmax FROM ${table(name)} GROUP BY tenant, event_type, customer, t ORDER BY tenant, event_type, customer, t`,
        );
      }
    });
    expect(suite.ledger.count('insert')).toBe(2);
  });

  describe('metering builders', () => {
    const base = () => ({ database: suite.database, tenant: TENANT, from: FROM, to: TO, limit: 100_000 });

    it('meterQuery: every aggregation x window x zone, per customer and per group-by property', async () => {
      const aggregations = new Set<string>();
      const n = await section('meterQuery windows', async () => {
        for (const meter of meters) {
          for (const series of allSeries(meter)) {
            aggregations.add(series.aggregation);
            for (const window of WINDOW_SIZES) {
              // Minute windows and no window do not depend on the zone: UTC only.
              for (const timezone of window === 'minute' || window === 'none' ? ['UTC'] : ZONES) {
                const params = { ...base(), meter, profile: series.profile, window, timezone };
                await suite.ch.query(meterQuery(params));
                await suite.ch.query(
                  meterQuery({
                    ...params,
                    groupByCustomer: true,
                    groupBy: meter.groupBy,
                    customers: [...CUSTOMERS.slice(0, 3)],
                  }),
                );
              }
            }
          }
        }
      });
      expect([...aggregations].sort()).toEqual([...AGGREGATIONS].sort());
      expect(n).toBeGreaterThan(AGGREGATIONS.length * (2 + 3 * ZONES.length));
    });

    it('meterQuery: every filter operator on every aggregation', async () => {
      const filters = fixtureFilters();
      expect(new Set(filters.map((f) => f.operator))).toEqual(new Set(FILTER_OPERATORS));
      await section('meterQuery filters', async () => {
        // The filter is a WHERE condition whatever the aggregation: one meter per kind of value read
        // (events counted, the quantity, a numeric property, a property's distinct values).
        for (const meter of meters.filter((m) =>
          ['calls', 'qty_latest', 'tokens', 'users'].includes(m.key),
        )) {
          for (const filter of filters) {
            await suite.ch.query(
              meterQuery({
                ...base(),
                meter,
                window: 'day',
                timezone: 'America/New_York',
                groupByCustomer: true,
                extraFilters: [filter],
              }),
            );
          }
        }
      });
    });

    it('topCustomers and customerPeriodUsage: every meter, profile and zone', async () => {
      await section('topCustomers', async () => {
        for (const meter of meters) {
          for (const series of allSeries(meter)) {
            await suite.ch.query(topCustomers({ ...base(), meter, profile: series.profile, limit: 3 }));
            await suite.ch.query(
              topCustomers({
                ...base(),
                meter,
                profile: series.profile,
                extraFilters: [fixtureFilters()[4]],
                limit: 10,
              }),
            );
          }
        }
      });
      await section('customerPeriodUsage', async () => {
        for (const timezone of ZONES) {
          for (const customer of CUSTOMERS) {
            await suite.ch.query(
              customerPeriodUsage({
                database: suite.database,
                tenant: TENANT,
                customer,
                meters,
                from: FROM,
                to: TO,
                timezone,
              }),
            );
          }
        }
      });
    });
  });

  describe('usage roll-ups', () => {
    // Whole UTC hours that are not whole days: the tiered path reads days and edge hours.
    const range = { from: new Date('2026-03-07T05:00:00Z'), to: new Date('2026-03-30T07:00:00Z') };
    const rollupSeries = () => meters.flatMap(allSeries).filter(seriesUsesRollup);
    const scope = (series: Series) => ({ database: suite.database, tenant: TENANT, series, ...range });

    it('rollupMeterQuery, rollupTopCustomers and seriesTotals: every roll-up series, window and whole-hour zone', async () => {
      expect(new Set(rollupSeries().map((s) => s.aggregation))).toEqual(
        new Set(['count', 'sum', 'min', 'max', 'avg']),
      );
      await section('usage roll-ups', async () => {
        for (const series of rollupSeries()) {
          for (const window of ['hour', 'day', 'month', 'none'] as const) {
            for (const timezone of window === 'none' ? ['UTC'] : ZONES.filter((z) => z !== 'Asia/Kolkata')) {
              await suite.ch.query(
                rollupMeterQuery({
                  ...scope(series),
                  window,
                  timezone,
                  groupByCustomer: true,
                  limit: 10_000,
                }),
              );
            }
          }
          await suite.ch.query(
            rollupMeterQuery({
              ...scope(series),
              window: 'none',
              timezone: 'UTC',
              groupByCustomer: true,
              tiered: true,
              limit: 100,
            }),
          );
          await suite.ch.query(
            rollupMeterQuery({
              ...scope(series),
              window: 'none',
              timezone: 'UTC',
              customers: [CUSTOMERS[0]],
              limit: 100,
            }),
          );
          await suite.ch.query(rollupTopCustomers({ ...scope(series), limit: 3 }));
          await suite.ch.query(rollupTopCustomers({ ...scope(series), tiered: true, limit: 3 }));
        }
        const meter = meters.find((m) => m.key === 'qty_sum') as MeterDefinition;
        const series = allSeries(meter)[0];
        await suite.ch.query(
          seriesTotals([
            {
              key: 'scan',
              query: meterQuery({
                database: suite.database,
                tenant: TENANT,
                meter,
                ...range,
                window: 'none',
                timezone: 'UTC',
                customers: [CUSTOMERS[1]],
                limit: 1,
              }),
            },
            {
              key: 'rollup',
              query: rollupMeterQuery({
                ...scope(series),
                window: 'none',
                timezone: 'UTC',
                customers: [CUSTOMERS[1]],
                limit: 1,
              }),
            },
          ]),
        );
      });
    });

    it("rollupBuckets (a customer's usage in one read) and the coverage check's queries", async () => {
      await section('usage buckets and coverage', async () => {
        for (const customer of CUSTOMERS) {
          for (const byDayIn of [undefined, 'America/New_York', 'Europe/Berlin']) {
            await suite.ch.query(
              rollupBuckets({
                database: suite.database,
                tenant: TENANT,
                customer,
                eventTypes: [...EVENT_TYPES],
                ...range,
                byDayIn,
              }),
              { exactNumbers: true },
            );
          }
        }
        await suite.ch.query(rollupTables(suite.database));
        for (const counts of ['parts', 'scan'] as const)
          await suite.ch.query(rollupCoverage(suite.database, counts, ROLLUP_TABLES));
        // The service's own check, on the dual handle: it must find every month covered.
        const coverage = new RollupCoverage(suite.ch, createLogger('parity', 'silent'), 60_000);
        await coverage.refresh();
        expect(
          coverage.covers([202603, 202511], ['usage_hourly', 'usage_daily', 'usage_hourly_by_time']),
        ).toBe(true);
      });
    });
  });

  describe('billing', () => {
    it('billingUsageQuery (invoice usage) and usageFingerprintQuery (the recount) for every series and zone', async () => {
      const series = meters.flatMap((meter) =>
        allSeries(meter).map((s) => ({ key: s.key, meter, profile: s.profile })),
      );
      await section('billing usage', async () => {
        for (const timezone of ZONES) {
          const period = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z') };
          await suite.ch.query(
            billingUsageQuery({
              database: suite.database,
              tenant: TENANT,
              customers: [...CUSTOMERS],
              series,
              ...period,
              timezone,
            }),
            { exactNumbers: true },
          );
        }
        for (const customers of [[...CUSTOMERS], [CUSTOMERS[2]]]) {
          await suite.ch.query(
            usageFingerprintQuery({
              database: suite.database,
              tenant: TENANT,
              customers,
              eventTypes: [...EVENT_TYPES],
              from: FROM,
              to: TO,
            }),
          );
        }
      });
    });

    it('the invoice ledger: its JSONEachRow insert and FINAL reads', async () => {
      await section('invoice ledger', async () => {
        const ledger = new InvoiceLedger(suite.ch);
        const period = customerPeriod(
          [{ id: 's1', plan: 'p', start: '2026-01-01' }],
          '2026-03',
          'America/New_York',
        );
        if (!period) throw new Error('no period');
        const doc = computeInvoice({
          tenant: TENANT,
          customer: CUSTOMERS[0],
          period,
          pricing: {
            subscriptions: period.subscriptions,
            plans: {
              p: {
                id: 'p',
                currency: 'USD',
                charges: [{ id: 'f', name: 'Fee', kind: 'flat', amount: '123456789012345678901234.56' }],
              },
            },
            meterVersions: {},
          },
          usage: {},
          fingerprint: { eventCount: '3', checksum: '18446744073709551615' },
          issuedBy: 'parity',
          createdAt: '2026-04-01T00:00:00.000Z',
        });
        await ledger.insert([doc, doc]); // written twice, read once (FINAL)
        const read = await ledger.get(TENANT, doc.invoiceId);
        expect(read?.totalMinor).toBe(doc.totalMinor);
        await ledger.listForCustomer(TENANT, CUSTOMERS[0]);
        await ledger.listForCustomer(TENANT, CUSTOMERS[0], '2026-03');
        await ledger.documentsOf(TENANT, '2026-03', [...CUSTOMERS]);
      });
    });
  });

  describe('simulation results', () => {
    it('stores a simulation page and reads it back in pages (FINAL, keyset)', async () => {
      await section('simulation results', async () => {
        const store = new SimulationResultStore(suite.ch, () => Date.UTC(2026, 3, 1));
        const results: CustomerSimulation[] = CUSTOMERS.map((customer, i) => ({
          customer,
          period: '2026-03',
          status: 'simulated',
          currency: 'USD',
          billedMinor: String(1000 + i),
          simulatedMinor: String(1100 + i),
          differenceMinor: '100',
          invoiceId: `inv_${i}`,
          fingerprint: {
            invoice: { eventCount: '3', checksum: '18446744073709551615' },
            priced: { eventCount: '3', checksum: '18446744073709551615' },
          },
          lines: [],
        }));
        await store.insert(TENANT, 'sim_1', results);
        await store.insert(TENANT, 'sim_1', results); // a retried page: collapsed by FINAL
        const first = await store.read(TENANT, 'sim_1', undefined, 2);
        const rest = await store.read(TENANT, 'sim_1', first[first.length - 1], 1000);
        expect([...first, ...rest]).toEqual([...results].sort((a, b) => a.customer.localeCompare(b.customer)));
      });
    });
  });

  describe('ingestion lookups and the points writer', () => {
    it("the writer's dedup lookup and the points writer's insert and lookup", async () => {
      await section('ingestion', async () => {
        const found = await findExistingIds(suite.ch, suite.database, [
          ...events.slice(0, 50).map((e) => ({ tenant: e.tenant, eventId: e.eventId })),
          { tenant: TENANT, eventId: 'evt_missing' },
        ]);
        expect(found.size).toBe(50);
        const store = new ClickHousePointStore(suite.ch);
        const points = fixturePoints();
        await store.insert(points);
        const existing = await store.findExisting([
          ...points.slice(0, 20).map((p) => ({ tenant: p.tenant, dataset: p.dataset, pointId: p.point_id })),
          { tenant: POINTS_TENANT, dataset: DATASET, pointId: 'missing' },
        ]);
        expect(existing.size).toBe(20);
        await suite.ch.compareSelect(
          sql`SELECT * FROM ${identifier(suite.database, 'datapoints')} ORDER BY tenant, dataset, point_id`,
        );
        await suite.ch.compareSelect(
          sql`SELECT tenant, dataset, point_id FROM ${identifier(suite.database, 'datapoint_ids')} ORDER BY tenant, dataset, point_id`,
        );
      });
    });
  });

  describe("the writer's fenced commits", () => {
    it('takes a partition over, commits under its token, and a superseded token commits nothing', async () => {
      await section('writer fence', async () => {
        const table = (name: string) => identifier(suite.database, name);
        // A copy of `events` (same columns and engine, no views): the fenced inserts land there and
        // leave the other sections' `events` as they were.
        await suite.ch.command(sql`CREATE TABLE ${table('fence_events')} AS ${table('events')}`);
        const target = { database: suite.database, eventsTable: 'fence_events' };
        const rows = encodeEventRows(events.slice(0, 40));
        await takeOverPartition(suite.ch, target, { partition: 3, token: 1 });
        expect(await insertFenced(suite.ch, target, { partition: 3, token: 1 }, rows)).toBe(true);
        // The race the fence exists for: a new owner has written its token, the old owner commits.
        await suite.ch.command(writeFenceSql(suite.database, 3, 2));
        expect(await insertFenced(suite.ch, target, { partition: 3, token: 1 }, rows)).toBe(false);
        await takeOverPartition(suite.ch, target, { partition: 3, token: 2 }); // drops token 1's staging table
        expect(await currentFence(suite.ch, suite.database, 3)).toBe(2);
        expect(await insertFenced(suite.ch, target, { partition: 3, token: 2 }, encodeEventRows(events.slice(40, 60)))).toBe(true);
        const stored = await suite.ch.compareSelect(sql`SELECT count() AS n FROM ${table('fence_events')}`);
        expect(JSON.parse(stored).n).toBe('60');
        await suite.ch.compareSelect(sql`SELECT * FROM ${table('fence_events')} ORDER BY tenant, event_id`);
      });
    });
  });

  describe('Analytics Engine SQL API', () => {
    const formats = ['JSON', 'JSONEachRow', 'TabSeparated'] as const;
    const service = (target: 'compatible' | 'modern' = 'compatible') => {
      const runner = new ParityAnalyticsRunner(suite.ch);
      return {
        runner,
        api: new SqlApiService({ listDatasets: () => [{ name: DATASET }] }, runner, {
          database: suite.database,
        }),
        compile: (text: string) =>
          compileAnalyticsSql(text, {
            tenant: POINTS_TENANT,
            datasets: [DATASET],
            database: suite.database,
            target,
          }),
      };
    };

    it('runs the six queries of the seeds in every output format', async () => {
      const queries = [...Object.values(SEED_000_QUERIES), ...Object.values(SEED_001_QUERIES)];
      expect(queries).toHaveLength(6);
      const { api, runner } = service();
      await section('SQL API seeds', async () => {
        for (const query of queries) {
          for (const format of formats) {
            const answer = await api.execute({ tenant: POINTS_TENANT, body: query, format });
            expect(answer.body.length).toBeGreaterThan(0);
          }
        }
      });
      expect(runner.runs).toBe(18);
    });

    it('gives the same answers with the expansions for 18.16 and, on 26.7, with the native functions', async () => {
      const compatible = service('compatible');
      const modern = service('modern');
      await section('SQL API generation forms', async () => {
        for (const form of GENERATION_FORMS) {
          const text = `SELECT ${form} AS t, count() AS n, sum(_sample_interval * double2) AS total FROM ${DATASET} GROUP BY t ORDER BY t`;
          const a = compatible.compile(text);
          const b = modern.compile(text);
          if (a.kind !== 'query' || b.kind !== 'query') throw new Error('not a query');
          expect(b.sql).not.toBe(a.sql);
          // The expansion on both engines, then the expansion on 18.16 against the native call on 26.7.
          await compareFormatted(suite.ch, 'JSON', a.sql, a.sql, a.settings);
          await compareFormatted(suite.ch, 'JSON', a.sql, b.sql, a.settings);
        }
      });
    });

    it('names only functions that ClickHouse 26.7 has', async () => {
      const rows = JSON.parse(
        `[${suite.modern
          .query(
            `SELECT name FROM system.functions WHERE name IN (${EMITTED_FUNCTION_NAMES.map((n) => quote.literal(n).text).join(', ')})`,
            'JSONEachRow',
          )
          .trim()
          .split('\n')
          .join(',')}]`,
      ) as Array<{ name: string }>;
      expect(new Set(rows.map((r) => r.name))).toEqual(new Set(EMITTED_FUNCTION_NAMES));
    });
  });

  it("documents 18.16's toString(Decimal128) defect: corrupt text, right value", async () => {
    const ledger = new ParityLedger();
    const probe = new DualClickHouse(suite.legacy, suite.modern, ledger);
    const [row] = await probe.query<{ text: string; value: string }>(
      // The value as Tally's meter builders format it: toString, trailing zeros trimmed.
      sql`SELECT ${trimDecimalText(sql`toString(toDecimal128('1000000000000000000821.5', 12))`)} AS text, toDecimal128('1000000000000000000821.5', 12) AS value`,
      { exactNumbers: true },
    );
    expect(row.text).toContain('\u0000'); // 18.16's answer, returned to the caller
    expect(row.value).toBe('1000000000000000000821.500000000000');
    expect(ledger.differences).toHaveLength(0);
    expect(ledger.explained.map((d) => d.explainedBy)).toEqual(['toString-decimal128']);
  });

  it('notices a real difference: positional GROUP BY means the constant on 18.16 and the column on 26.7', async () => {
    // A separate ledger: this difference is wanted, and proves the comparison can fail end to end.
    const ledger = new ParityLedger();
    const probe = new DualClickHouse(suite.legacy, suite.modern, ledger);
    await probe.query(
      sql`SELECT customer, count() AS n FROM ${identifier(suite.database, 'events')} GROUP BY customer ORDER BY customer`,
    );
    expect(ledger.differences).toHaveLength(0);
    await probe
      .query(
        raw(`SELECT count() AS n FROM ${identifier(suite.database, 'events').text} GROUP BY 1 ORDER BY n`),
      )
      .catch(() => undefined);
    expect(ledger.differences).toHaveLength(1);
    expect(ledger.differences[0].reason).toMatch(/row counts differ|differs|refused/);
  });

  it('reports what it compared, with no difference', () => {
    const { ledger } = suite;
    console.log(ledger.summary());
    expect(ledger.count('query')).toBeGreaterThan(500);
    // Every builder's section (coverage.ts) compared something on both engines.
    const labels = new Set(ledger.entries.map((e) => e.label));
    expect(Object.values(BUILDERS).filter((label) => !labels.has(label))).toEqual([]);
    expect(ledger.differences).toEqual([]);
    // Only meter values of 10^21 and more (the fixture's huge token counts) may hit the 18.16 defect.
    expect(ledger.explained.every((d) => d.explainedBy === 'toString-decimal128')).toBe(true);
  });
});
