/**
 * The demo `npm start` runs against the embedded default: it creates a tenant with customers and an
 * API key, sends a month of usage through the SDK, waits until the writer stored it, and prints
 * each customer's usage. Safe to run again: it reuses the tenant and sends new events.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ApiKeyStore, CatalogStore } from '@tally/catalog';
import { createClickHouse, sql } from '@tally/clickhouse';
import { connectNats, natsNames } from '@tally/nats';
import { httpTransport, TallyClient } from '@tally/sdk';
import { waitFor } from '@tally/testing';

const TENANT = 'demo';
const CUSTOMERS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const gatewayUrl = `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 3000}`;

async function main(): Promise<void> {
  const names = natsNames(process.env.TALLY_NATS_PREFIX ?? 'tally');
  const nc = await connectNats(process.env.NATS_URL ?? 'nats://127.0.0.1:4322', 'tally-demo');
  const catalog = await CatalogStore.open(nc, names);
  const keys = await ApiKeyStore.open(nc, names);
  if (!(await catalog.getTenant(TENANT))) {
    await catalog.putTenant({
      id: TENANT,
      name: 'Demo SaaS',
      timezone: 'America/New_York',
      currency: 'USD',
      latenessLimitDays: 35,
      rateLimitPerSecond: 100_000,
      requireKnownCustomers: false,
    });
  }
  // Two meters over the demo traffic: calls counted, tokens summed, each split by endpoint.
  for (const meter of [
    { key: 'api_calls', name: 'API calls', eventTypes: ['api_call'], aggregation: 'count' as const, groupBy: ['endpoint'] },
    { key: 'tokens', name: 'Tokens', eventTypes: ['tokens'], aggregation: 'sum' as const, valueProperty: 'quantity', groupBy: ['endpoint'] },
  ]) {
    if (!(await catalog.getMeter(TENANT, meter.key))) {
      await catalog.putMeter({ tenant: TENANT, filters: [], profiles: [], ...meter });
    }
  }
  const { key } = await keys.create(TENANT, 'admin', `demo ${new Date().toISOString()}`);
  const dataDir = process.env.TALLY_DATA_DIR ?? path.resolve(__dirname, '../../.data');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path.join(dataDir, 'demo-api-key'), `${key}\n`, { mode: 0o600 });

  const clickhouse = createClickHouse({
    url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
    username: process.env.CLICKHOUSE_USER ?? 'default',
    password: process.env.CLICKHOUSE_PASSWORD ?? '',
    database: process.env.CLICKHOUSE_DATABASE ?? 'tally',
  });
  const before = await totals(clickhouse);

  // Wait for the gateway to see the new key (it watches the key bucket).
  await waitFor(async () => (await fetch(`${gatewayUrl}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"events":[]}' })).status !== 401, { what: 'the demo key to reach the gateway' });

  const tally = new TallyClient({ transport: httpTransport({ baseUrl: gatewayUrl, apiKey: key }) });
  const now = Date.now();
  let sent = 0;
  for (let i = 0; i < 5_000; i++) {
    // A skewed mix: the first customers are much busier than the last.
    const customer = CUSTOMERS[Math.min(CUSTOMERS.length - 1, Math.floor(-Math.log(1 - ((i * 7919) % 1000) / 1000) * 1.5))];
    tally.record({
      customerId: customer,
      metricName: i % 4 === 0 ? 'tokens' : 'api_call',
      quantity: i % 4 === 0 ? `${(i % 97) + 0.5}` : 1,
      dimensions: { endpoint: ['/search', '/render', '/export'][i % 3], region: i % 2 ? 'us' : 'eu' },
      timestamp: now - ((i * 104_729) % (20 * 86_400_000)),
    });
    sent++;
  }
  await tally.close();
  const stats = tally.stats();
  console.log(`[demo] sent ${sent} events through the SDK: ${stats.accepted} accepted, ${stats.duplicates} duplicates`);

  await waitFor(async () => (await totals(clickhouse)).events - before.events >= stats.accepted, {
    timeoutMs: 60_000,
    what: 'the writer to store the demo events',
  });
  const rows = await clickhouse.query<{ customer: string; event_type: string; events: string; quantity: string }>(
    sql`SELECT customer, event_type, toString(count()) AS events, toString(sum(quantity)) AS quantity FROM ${clickhouse.table('events')} WHERE tenant = ${TENANT} GROUP BY customer, event_type ORDER BY customer, event_type`,
    { exactNumbers: true },
  );
  console.log('[demo] usage per customer (all time):');
  console.table(rows.map((r) => ({ ...r, quantity: r.quantity.includes('.') ? r.quantity.replace(/\.?0+$/, '') : r.quantity })));
  // The same answer through the query API, per meter, as billing sees it.
  const queryUrl = `http://127.0.0.1:${process.env.QUERY_PORT ?? 3001}`;
  const period = new Date().toISOString().slice(0, 7);
  const usage = (await (
    await fetch(`${queryUrl}/v1/customers/${CUSTOMERS[0]}/usage?period=${period}`, { headers: { authorization: `Bearer ${key}` } })
  ).json()) as { usage?: { series: string; total: string; days: { date: string; value: string }[] }[] };
  console.log(`[demo] GET ${queryUrl}/v1/customers/${CUSTOMERS[0]}/usage?period=${period} (totals and busiest day):`);
  console.table(
    (usage.usage ?? []).map((u) => {
      const busiest = [...u.days].sort((a, b) => Number(b.value) - Number(a.value))[0];
      return { meter: u.series, total: u.total, busiestDay: busiest?.date, busiestDayValue: busiest?.value };
    }),
  );
  console.log(`[demo] API key for tenant '${TENANT}' saved in ${path.join(dataDir, 'demo-api-key')}`);
  await keys.close();
  await clickhouse.close();
  await nc.close();
}

async function totals(clickhouse: ReturnType<typeof createClickHouse>): Promise<{ events: number }> {
  const [row] = await clickhouse.query<{ events: string }>(
    sql`SELECT toString(count()) AS events FROM ${clickhouse.table('events')} WHERE tenant = ${TENANT}`,
    { exactNumbers: true },
  );
  return { events: Number(row.events) };
}

main().catch((error: unknown) => {
  console.error('[demo] failed:', error);
  process.exit(1);
});
