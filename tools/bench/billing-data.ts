/**
 * The billing benchmark's data, shared by `bench:billing` and `bench:simulate`: one tenant, three meters
 * (calls counted, tokens summed, peak storage), one plan, N customers in four time zones with
 * subscriptions since January, and `eventsPerMeter` events per customer and meter in October 2026,
 * inserted straight into ClickHouse in bulk.
 */
import { randomUUID } from 'node:crypto';
import type { CatalogStore } from '@tally/catalog';
import { insertEvents, type EventRow } from '@tally/clickhouse';
import type { TestDatabase } from '@tally/clickhouse/testing';
import type { Plan } from '@tally/pricing';
import { freePort, startService, testNatsUrl, testTemporalAddress, waitUntilHealthy } from '@tally/testing';

export const PERIOD = '2026-10';
export const RUN_AT = '2026-11-01T06:00:00.000Z';

/** The one plan every customer is on; the recount prices usage with it through @tally/pricing. */
export const PLAN = {
  id: 'pro',
  name: 'Pro',
  currency: 'USD',
  charges: [
    { id: 'base', name: 'Platform fee', kind: 'flat', amount: '10' },
    { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.05', freeUnits: '2' },
    {
      id: 'tokens',
      name: 'Tokens',
      kind: 'graduated',
      meter: 'tokens',
      tiers: [
        { upTo: '1000', unitPrice: '0.001' },
        { upTo: null, unitPrice: '0.0005' },
      ],
    },
    { id: 'storage', name: 'Peak storage', kind: 'per_unit', meter: 'storage', unitPrice: '1' },
  ],
} satisfies Plan;

async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** Seeds the catalog and the events; returns the events (for recounts). */
export async function seedBillingData(args: {
  store: CatalogStore;
  db: TestDatabase;
  tenant: string;
  customers: number;
  eventsPerMeter: number;
  log: (line: string) => void;
}): Promise<EventRow[]> {
  const { store, db, tenant, customers, eventsPerMeter, log } = args;
  const seedStart = performance.now();
  await store.putTenant({ id: tenant, name: 'Bench', timezone: 'UTC', currency: 'USD' });
  await store.putMeter({
    tenant,
    key: 'calls',
    name: 'API calls',
    eventTypes: ['call'],
    aggregation: 'count',
  });
  await store.putMeter({
    tenant,
    key: 'tokens',
    name: 'Tokens',
    eventTypes: ['completion'],
    aggregation: 'sum',
    valueProperty: 'tokens',
  });
  await store.putMeter({
    tenant,
    key: 'storage',
    name: 'Peak storage',
    eventTypes: ['storage'],
    aggregation: 'max',
    valueProperty: 'gb',
  });
  await store.putPlan({ tenant, ...PLAN });
  const ids = Array.from({ length: customers }, (_, i) => `cust-${String(i).padStart(6, '0')}`);
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'];
  await mapLimit(ids, 64, async (id) => {
    const n = Number(id.slice(5));
    await store.putCustomer({ tenant, id, timezone: zones[n % zones.length] });
    await store.putSubscription({
      tenant,
      id: `sub-${id}`,
      customer: id,
      plan: 'pro',
      start: '2026-01-01',
    });
  });
  log(
    `catalog: ${customers} customers and subscriptions in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  const rows: EventRow[] = [];
  const day = Date.parse('2026-10-02T12:00:00Z');
  for (const [c, id] of ids.entries()) {
    for (let e = 0; e < eventsPerMeter; e++) {
      const ts = Math.floor((day + ((c * 7 + e * 86_400_000 * 5) % (27 * 86_400_000))) / 1000);
      const base = {
        tenant,
        customer: id,
        ts,
        tsMs: 0,
        quantity: '1',
        source: 'bench',
        schemaVersion: '1',
        requestId: '',
        receivedAt: ts,
        payloadHash: 'h',
      };
      rows.push({ ...base, eventType: 'call', eventId: randomUUID(), properties: {} });
      rows.push({
        ...base,
        eventType: 'completion',
        eventId: randomUUID(),
        properties: { tokens: String(100 + ((c + e) % 400)) },
      });
      rows.push({
        ...base,
        eventType: 'storage',
        eventId: randomUUID(),
        properties: { gb: String(1 + ((c * 3 + e) % 50)) },
      });
    }
  }
  for (let i = 0; i < rows.length; i += 100_000)
    await insertEvents(db.client, db.database, rows.slice(i, i + 100_000));
  log(
    `events: ${rows.length} inserted; seeding took ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  return rows;
}

/**
 * Starts the real `apps/billing-worker` on a bench's streams, database and task queue (no schedules),
 * and resolves once its /health answers; a worker that exits or never answers is stopped first.
 */
export async function startBenchBillingWorker(target: {
  prefix: string;
  database: string;
  taskQueue: string;
}): Promise<ReturnType<typeof startService>> {
  const port = await freePort();
  const worker = startService('billing-worker', {
    NATS_URL: testNatsUrl(),
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TALLY_NATS_PREFIX: target.prefix,
    CLICKHOUSE_DATABASE: target.database,
    TALLY_TASK_QUEUE: target.taskQueue,
    BILLING_SCHEDULES: 'false',
    BILLING_WORKER_INTERNAL_PORT: String(port),
    LOG_LEVEL: 'warn',
  });
  try {
    await waitUntilHealthy(worker, `http://127.0.0.1:${port}`, {
      timeoutMs: 120_000,
      what: 'billing worker /health',
    });
  } catch (error) {
    await worker.stop();
    throw error;
  }
  return worker;
}
