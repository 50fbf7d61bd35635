/**
 * The demo `npm start` runs against the running services: Tally's whole job on one small tenant.
 *
 * 1. A tenant (the catalog), an admin key, meters, two plans (a flat fee with graduated calls; graduated
 *    tokens with a minimum), three customers in three time zones, their subscriptions (query API).
 * 2. Last month's and this month's usage through the SDK, over HTTP and over NATS (the gateway).
 * 3. The monthly billing run (`billingRunWorkflow`, the workflow the hourly schedule starts), triggered
 *    for last month: one invoice workflow per customer, invoices in the ledger.
 * 4. Late events into the closed month: the writer signals the rebill workflow, an adjustment appears.
 * 5. Analytics Engine data points and Cloudflare's usage-billing SQL queries (SQL API).
 * 6. Per customer: the invoice total and where to look (invoice page, Temporal Web UI, usage API, /docs).
 *
 * Everything it prints comes back from the services. Running it again finds what exists: the same event
 * and point ids are stored once, the billing run of a month is started once, nothing is billed twice.
 * Every address, prefix and name comes from the environment (see `demoConfigSpec`), so a test can run
 * it against its own isolated stack; `TALLY_DEMO_SUMMARY=<file>` also writes what it found as JSON.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import {
  BILLING_WORKFLOWS,
  billingSearchAttributes,
  type BillingRunInput,
  type BillingRunState,
} from '@tally/billing-contracts';
import { startOfDate } from '@tally/billing-periods';
import { ApiKeyStore, CatalogStore } from '@tally/catalog';
import { env, infraConfig, loadConfig, natsConnectionConfig } from '@tally/config';
import { connectNats, natsNames } from '@tally/nats';
import { httpTransport, natsTransport, TallyClient } from '@tally/sdk';
import { connectTemporal } from '@tally/temporal';
import { waitFor } from '@tally/testing';
import {
  dataPoints,
  DEMO_CUSTOMERS,
  DEMO_METERS,
  DEMO_PLANS,
  lastMonth,
  lastMonthEvents,
  LATE_CUSTOMER,
  lateEvents,
  nextMonth,
  seedQueries,
  thisMonthEvents,
  type DemoEvent,
} from './scenario';

export const demoConfigSpec = {
  tenant: env.string('TALLY_DEMO_TENANT', 'demo', 'tenant the demo creates and bills'),
  host: env.string('TALLY_HOST', '127.0.0.1', 'host of the services'),
  gatewayPort: env.port('GATEWAY_PORT', 3000, 'gateway port'),
  queryPort: env.port('QUERY_PORT', 3001, 'query API port'),
  temporalUiPort: env.port('TEMPORAL_UI_PORT', 8233, 'Temporal Web UI port'),
  ...natsConnectionConfig,
  natsPrefix: env.string('TALLY_NATS_PREFIX', 'tally', 'prefix of every stream, subject and bucket'),
  temporalAddress: infraConfig.temporalAddress,
  temporalNamespace: infraConfig.temporalNamespace,
  taskQueue: env.string('TALLY_TASK_QUEUE', 'tally-billing', 'task queue of the billing worker'),
  dataDir: env.string('TALLY_DATA_DIR', path.resolve(__dirname, '../../.data'), 'where the API key is kept'),
  summary: env.string('TALLY_DEMO_SUMMARY', '', 'write what the demo found to this JSON file'),
  adjustmentTimeoutSeconds: env.int(
    'TALLY_DEMO_ADJUSTMENT_TIMEOUT',
    90,
    1,
    3600,
    'how long to wait for the adjustment',
  ),
};
type DemoConfig = ReturnType<typeof loadConfig<typeof demoConfigSpec>>;

interface InvoiceSummary {
  invoiceId: string;
  kind: 'invoice' | 'adjustment';
  version: number;
  period: string;
  currency: string;
  totalMinor: string;
  cumulativeTotalMinor: string;
  lateEventCount: number;
  links: { json: string; html: string };
}

const log = (line: string) => process.stdout.write(`[demo] ${line}\n`);
const money = (minor: string, currency: string) => {
  const n = BigInt(minor);
  const abs = n < 0n ? -n : n;
  return `${n < 0n ? '-' : ''}${currency} ${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
};

class Api {
  constructor(
    private readonly base: string,
    private readonly key: string,
  ) {}

  async call<T>(
    method: string,
    url: string,
    body?: unknown,
    okStatuses = [200, 201, 204],
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body === undefined
          ? {}
          : { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (!okStatuses.includes(res.status))
      throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 500)}`);
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
}

async function main(): Promise<void> {
  const config = loadConfig('demo', demoConfigSpec);
  const started = Date.now();
  const tenant = config.tenant;
  const gatewayUrl = `http://${config.host}:${config.gatewayPort}`;
  const queryUrl = `http://${config.host}:${config.queryPort}`;
  const uiUrl = `http://${config.host}:${config.temporalUiPort}`;
  const zones = DEMO_CUSTOMERS.map((c) => c.timezone);
  const period = lastMonth(started, zones);
  const current = nextMonth(period);

  // 1. The tenant and an admin key go straight into the catalog (there is no key to call the API with yet).
  const names = natsNames(config.natsPrefix);
  const nc = await connectNats(config.natsUrl, 'tally-demo', config);
  const catalog = await CatalogStore.open(nc, names);
  const keys = await ApiKeyStore.open(nc, names);
  const tenantDef = {
    id: tenant,
    name: 'Demo SaaS',
    timezone: 'America/New_York',
    currency: 'USD',
    // Last month's first days must still be accepted at the end of this month.
    latenessLimitDays: 70,
    rateLimitPerSecond: 100_000,
    requireKnownCustomers: false,
  };
  const existing = await catalog.getTenant(tenant);
  if (!existing || JSON.stringify(existing.value) !== JSON.stringify(tenantDef))
    await catalog.putTenant(tenantDef);
  const key = await adminKey(config, keys, queryUrl);
  const api = new Api(queryUrl, key);
  log(
    `tenant '${tenant}' (${existing ? 'reused' : 'created'}), admin key in ${path.join(config.dataDir, 'demo-api-key')}`,
  );

  for (const { key: meterKey, ...meter } of DEMO_METERS) {
    await api.call('PUT', `/v1/meters/${meterKey}`, {
      ...meter,
      eventTypes: [...meter.eventTypes],
      groupBy: [...meter.groupBy],
    });
  }
  for (const { id, ...plan } of DEMO_PLANS) await api.call('PUT', `/v1/plans/${id}`, plan);
  for (const c of DEMO_CUSTOMERS) {
    await api.call('PUT', `/v1/customers/${c.id}`, { name: c.name, timezone: c.timezone });
    // Created once: a subscription that started on the first day of the first month the demo billed.
    const sub = await api.call('GET', `/v1/subscriptions/sub_${c.id}`, undefined, [200, 404]);
    if (sub.status === 404) {
      await api.call('PUT', `/v1/subscriptions/sub_${c.id}`, {
        customer: c.id,
        plan: c.plan,
        start: `${period}-01`,
        billingAnchorDay: 1,
      });
    }
  }
  log(
    `catalog: meters ${DEMO_METERS.map((m) => m.key).join(', ')}; plans ${DEMO_PLANS.map((p) => p.id).join(', ')}; ` +
      `customers ${DEMO_CUSTOMERS.map((c) => `${c.id} (${c.timezone}, ${c.plan})`).join(', ')}`,
  );

  // 2. Usage through the SDK: globex over NATS, the others over HTTP. The gateway must know the key first.
  await waitFor(
    async () =>
      (
        await fetch(`${gatewayUrl}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: '{"events":[]}',
        })
      ).status !== 401,
    { what: 'the demo key to reach the gateway', timeoutMs: 30_000 },
  );
  const http = new TallyClient({ transport: httpTransport({ baseUrl: gatewayUrl, apiKey: key }) });
  const overNats = new TallyClient({
    transport: natsTransport({ connection: nc, tenant, apiKey: key, subjectPrefix: config.natsPrefix }),
  });
  const clientOf = (customer: string) =>
    DEMO_CUSTOMERS.find((c) => c.id === customer)?.transport === 'nats' ? overNats : http;
  const send = (events: DemoEvent[]) => {
    for (const e of events) clientOf(e.customerId).record(e);
  };
  // This month's events never fall into last month, in any of the customers' zones.
  const currentStartMs = Math.max(...zones.map((z) => startOfDate(`${current}-01`, z)));
  const lastMonthAll = DEMO_CUSTOMERS.flatMap((c) => lastMonthEvents(c, period));
  const thisMonthAll = DEMO_CUSTOMERS.flatMap((c) => thisMonthEvents(c, started, currentStartMs));
  send(lastMonthAll);
  send(thisMonthAll);
  await Promise.all([http.close(), overNats.close()]);
  const [hs, ns] = [http.stats(), overNats.stats()];
  log(
    `sent ${lastMonthAll.length} events of ${period} and ${thisMonthAll.length} of ${current} through the SDK: ` +
      `HTTP ${hs.accepted} accepted, ${hs.duplicates} duplicates; NATS ${ns.accepted} accepted, ${ns.duplicates} duplicates ` +
      '(an event sent again keeps its id: the writer stores each id once)',
  );
  if (hs.failed + hs.dropped + ns.failed + ns.dropped > 0)
    throw new Error(`events were refused or dropped: ${JSON.stringify({ hs, ns })}`);

  // 3. The monthly billing run, the workflow the hourly schedule `billing/<tenant>` starts, for last month.
  const temporal = await connectTemporal({
    address: config.temporalAddress,
    namespace: config.temporalNamespace,
  });
  const runId = `billing-run/${tenant}/demo-${period}`;
  const firstPeriodEnd = Math.min(...zones.map((z) => startOfDate(`${current}-01`, z)));
  const runInput: BillingRunInput = {
    tenant,
    at: new Date(started).toISOString(),
    // Every customer's last month ended between the first zone's midnight and now.
    lookbackHours: Math.ceil((started - firstPeriodEnd) / 3_600_000) + 1,
    graceSeconds: 0,
  };
  let run;
  try {
    run = await temporal.client.workflow.start(BILLING_WORKFLOWS.billingRun, {
      workflowId: runId,
      taskQueue: config.taskQueue,
      args: [runInput],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      typedSearchAttributes: [
        { key: billingSearchAttributes.tenant, value: tenant },
        { key: billingSearchAttributes.period, value: period },
        { key: billingSearchAttributes.kind, value: 'billing-run' },
      ],
    });
    log(`billing run ${runId} started for ${period}`);
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    run = temporal.client.workflow.getHandle(runId);
    log(`billing run ${runId} already ran: reusing its result`);
  }
  const result = (await run.result()) as BillingRunState;
  const runDescription = await run.describe();
  log(
    `billing run done: ${result.scanned} customers scanned, ${result.due} due, issued ${result.counts.issued}, ` +
      `already issued ${result.counts.already_issued}, failed ${result.counts.failed}`,
  );
  if (result.counts.failed > 0) throw new Error(`invoices failed: ${JSON.stringify(result.failures)}`);

  // 4. Late events into the closed month: the writer signals the rebill workflow, which adjusts.
  const late = lateEvents(period);
  const lateClient = new TallyClient({ transport: httpTransport({ baseUrl: gatewayUrl, apiKey: key }) });
  for (const e of late) lateClient.record(e);
  await lateClient.close();
  log(
    `sent ${late.length} late api calls for ${LATE_CUSTOMER} dated ${late[0].timestamp.slice(0, 10)} (${lateClient.stats().accepted} accepted)`,
  );
  const adjusted = await waitFor(
    async () => {
      const docs = await invoicesOf(api, LATE_CUSTOMER, period);
      const lateCount = docs.filter((d) => d.kind === 'adjustment').reduce((n, d) => n + d.lateEventCount, 0);
      return lateCount >= late.length ? docs : undefined;
    },
    {
      timeoutMs: config.adjustmentTimeoutSeconds * 1000,
      intervalMs: 500,
      what: `the adjustment of ${LATE_CUSTOMER}'s ${period}`,
    },
  );
  const adjustment = adjusted.filter((d) => d.kind === 'adjustment').at(-1) as InvoiceSummary;
  log(
    `adjustment ${adjustment.invoiceId}: ${money(adjustment.totalMinor, adjustment.currency)} for ${adjustment.lateEventCount} late events, ` +
      `${LATE_CUSTOMER} now owes ${money(adjustment.cumulativeTotalMinor, adjustment.currency)} for ${period}`,
  );

  // 5. Analytics Engine: a billing dataset (never sampled), data points, Cloudflare's SQL.
  await api.call('PUT', '/v1/datasets/usage_indexed_by_customer_id', { kind: 'billing' });
  const points = dataPoints(period);
  const gateway = new Api(gatewayUrl, key);
  const written = { accepted: 0, duplicates: 0 };
  for (let i = 0; i < points.length; i += 250) {
    const r = await gateway.call<{ accepted: number; duplicates: number }>(
      'POST',
      '/v1/datasets/usage_indexed_by_customer_id/points',
      points.slice(i, i + 250),
      [200, 202],
    );
    written.accepted += r.body.accepted;
    written.duplicates += r.body.duplicates;
  }
  log(
    `wrote ${points.length} data points to usage_indexed_by_customer_id: ${written.accepted} accepted (${written.duplicates} already stored)`,
  );
  const queries = seedQueries(period, current, LATE_CUSTOMER);
  const expectedPoints = String(points.length);
  const sqlAnswers: Array<{ title: string; sql: string; rows: Record<string, string>[] }> = [];
  // The writer stores within about a second: wait until the first query counts every point.
  await waitFor(
    async () => {
      const rows = await sql(api, queries[0].sql);
      return rows.reduce((n, r) => n + Number(r.count), 0) === Number(expectedPoints);
    },
    { timeoutMs: 30_000, intervalMs: 300, what: 'the data points to be stored' },
  );
  for (const q of queries) {
    const rows = await sql(api, q.sql);
    sqlAnswers.push({ ...q, rows });
    log(`SQL: ${q.title}\n${q.sql.replace(/^/gm, '    ')}`);
    console.table(rows);
  }

  // 6. Per customer: the invoice and where to look.
  const workflowUrl = (id: string, rid: string) =>
    `${uiUrl}/namespaces/${config.temporalNamespace}/workflows/${encodeURIComponent(id)}/${rid}/history`;
  const summary = {
    tenant,
    period,
    billingRun: {
      workflowId: runId,
      runId: runDescription.runId,
      result,
      url: workflowUrl(runId, runDescription.runId),
    },
    customers: [] as Array<{
      id: string;
      timezone: string;
      documents: InvoiceSummary[];
      invoiceWorkflow: string;
      links: Record<string, string>;
    }>,
    sql: sqlAnswers,
    seconds: 0,
  };
  console.log(`\nLast month (${period}), per customer:`);
  for (const c of DEMO_CUSTOMERS) {
    const docs = await invoicesOf(api, c.id, period);
    const invoice = docs.find((d) => d.kind === 'invoice');
    const wfId = `invoice/${tenant}/${c.id}/${period}`;
    const wf = await temporal.client.workflow.getHandle(wfId).describe();
    const links = {
      invoiceHtml: invoice ? `${queryUrl}${invoice.links.html}` : '',
      invoiceJson: invoice ? `${queryUrl}${invoice.links.json}` : '',
      invoiceWorkflow: workflowUrl(wfId, wf.runId),
      billingRun: summary.billingRun.url,
      usage: `${queryUrl}/v1/customers/${c.id}/usage?period=${period}`,
      docs: `${queryUrl}/docs`,
    };
    summary.customers.push({ id: c.id, timezone: c.timezone, documents: docs, invoiceWorkflow: wfId, links });
    const last = docs.at(-1);
    console.log(
      `\n  ${c.id} (${c.timezone}, plan ${c.plan}): invoice ${invoice?.invoiceId ?? 'none'} ${invoice ? money(invoice.totalMinor, invoice.currency) : ''}` +
        (last && last !== invoice
          ? `; with ${docs.length - 1} adjustment(s) ${money(last.cumulativeTotalMinor, last.currency)}`
          : ''),
    );
    for (const d of docs.filter((x) => x.kind === 'adjustment')) {
      console.log(
        `    adjustment  ${d.invoiceId} ${money(d.totalMinor, d.currency)} (${d.lateEventCount} late events)   ${queryUrl}${d.links.html}`,
      );
    }
    console.log(`    invoice page      ${links.invoiceHtml}`);
    console.log(`    invoice workflow  ${links.invoiceWorkflow}`);
    console.log(`    usage API         ${links.usage}`);
  }
  console.log(`\n  billing run        ${summary.billingRun.url}`);
  console.log(
    `  all Tally workflows ${uiUrl}/namespaces/${config.temporalNamespace}/workflows?query=${encodeURIComponent(`TallyTenant="${tenant}"`)}`,
  );
  console.log(`  API reference      ${queryUrl}/docs`);
  console.log(
    `  (the API wants the key: KEY=$(cat ${path.join(config.dataDir, 'demo-api-key')}); curl -H "Authorization: Bearer $KEY" <url>)`,
  );
  summary.seconds = Math.round((Date.now() - started) / 100) / 10;
  log(`done in ${summary.seconds} s`);
  if (config.summary) writeFileSync(config.summary, JSON.stringify(summary, null, 2));
  await temporal.close();
  await keys.close();
  await nc.drain();
}

/** The key saved by an earlier run if the query API still accepts it for this tenant, else a new one. */
async function adminKey(config: DemoConfig, keys: ApiKeyStore, queryUrl: string): Promise<string> {
  const file = path.join(config.dataDir, 'demo-api-key');
  let saved = '';
  try {
    saved = readFileSync(file, 'utf8').trim();
  } catch {
    // first run
  }
  if (saved) {
    const res = await fetch(`${queryUrl}/v1/tenant`, { headers: { authorization: `Bearer ${saved}` } });
    const body = res.ok ? ((await res.json()) as { tenant?: { id?: string }; id?: string }) : undefined;
    if (body && (body.tenant?.id ?? body.id) === config.tenant) return saved;
  }
  const { key } = await keys.create(config.tenant, 'admin', `demo ${new Date().toISOString()}`);
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  // The query API learns the key through its KV watch.
  await waitFor(
    async () => (await fetch(`${queryUrl}/v1/tenant`, { headers: { authorization: `Bearer ${key}` } })).ok,
    {
      what: 'the demo key to reach the query API',
      timeoutMs: 30_000,
    },
  );
  return key;
}

async function invoicesOf(api: Api, customer: string, period: string): Promise<InvoiceSummary[]> {
  return (
    await api.call<{ invoices: InvoiceSummary[] }>(
      'GET',
      `/v1/customers/${customer}/invoices?period=${period}`,
    )
  ).body.invoices;
}

async function sql(api: Api, query: string): Promise<Record<string, string>[]> {
  return (await api.call<{ data: Record<string, string>[] }>('POST', '/v1/sql', query)).body.data;
}

main().catch((error: unknown) => {
  console.error('[demo] failed:', error);
  process.exit(1);
});
