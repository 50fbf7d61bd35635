import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { InvoiceDocument, InvoiceLine } from '@tally/billing';
import { billingWorkflowIds } from '@tally/billing-contracts';
import { encodeBatchMessage, type DeadLetter } from '@tally/ingest-protocol';
import {
  freePort,
  startService,
  testNatsUrl,
  testTemporalAddress,
  waitFor,
  type ServiceProcess,
} from '@tally/testing';
import { IngestionHarness } from '../../gateway/test/ingestion-harness';
import { BillingHarness, testTimings } from './billing-harness';

const OCTOBER = '2026-10';
/** A customer id with every character HTML cares about. */
const GHOST = `<ghost & "co">`;

describe('dead-letter replay and the invoice API (real gateway, writer, query service, worker)', () => {
  const billing = new BillingHarness();
  const ingestion = new IngestionHarness({
    writerEnv: { WRITER_FLUSH_INTERVAL_MS: '100' },
  });
  let query: ServiceProcess;
  let queryUrl: string;
  const tenant = `dlq-${Date.now().toString(36)}`;
  let ingestKey: string;
  let queryKey: string;
  let adminKey: string;

  beforeAll(async () => {
    await ingestion.start();
    await billing.start({ names: ingestion.names, db: ingestion.db });
    await billing.startWorker();
    const port = await freePort();
    queryUrl = `http://127.0.0.1:${port}`;
    query = startService('query', {
      NATS_URL: testNatsUrl(),
      TALLY_NATS_PREFIX: ingestion.names.prefix,
      CLICKHOUSE_DATABASE: ingestion.db.database,
      QUERY_PORT: String(port),
      TEMPORAL_ADDRESS: testTemporalAddress(),
      TALLY_TASK_QUEUE: billing.taskQueue,
      LOG_LEVEL: 'warn',
    });
    ({ ingestKey, queryKey } = await ingestion.tenant(tenant, {
      requireKnownCustomers: true,
      latenessLimitDays: 3650,
    }));
    adminKey = (await ingestion.keys.create(tenant, 'admin', 'test admin key')).key;
    await billing.tenant({ id: tenant });
    await waitFor(async () => (await fetch(`${queryUrl}/health`).catch(() => undefined))?.ok, {
      timeoutMs: 60_000,
      what: `query /health\n${query.output()}`,
    });
  });
  afterAll(async () => {
    await query?.stop();
    await billing.stop();
    await ingestion.stop();
  });

  const api = async (method: string, path: string, key: string | undefined, body?: unknown) => {
    const response = await fetch(`${queryUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, type, body: type.includes('json') && text ? JSON.parse(text) : text };
  };

  async function replay(body: unknown) {
    const started = await api('POST', '/v1/dead-letters/replay', adminKey, body);
    expect(started.status).toBe(202);
    lastReplay = started.body.workflowId;
    return waitFor(
      async () => {
        const status = await api('GET', started.body.status, adminKey);
        return status.body.done ? status.body : undefined;
      },
      { timeoutMs: 30_000, what: 'replay to finish' },
    );
  }

  let lastReplay = '';
  const callsOf = async () => {
    const rows = await ingestion.rows(tenant);
    return rows.filter((r) => r.customer === GHOST).length;
  };

  it('replays a dead-lettered event once its customer exists, and bills it once', async () => {
    const events = ['2026-10-05', '2026-10-06', '2026-10-07'].map((d, i) => ({
      eventId: `ghost-${i}`,
      timestamp: Date.parse(`${d}T12:00:00Z`),
      customerId: GHOST,
      metricName: 'call',
    }));
    expect((await ingestion.post({ events }, ingestKey)).status).toBe(202);
    // The writer refuses them (unknown customer): three dead letters.
    const jsm = await jetstreamManager(ingestion.nc);
    await waitFor(
      async () => (await jsm.streams.info(ingestion.names.deadLetterStream)).state.messages >= 3,
      {
        what: 'three dead letters',
      },
    );

    // A dry run before the customer exists: nothing would be replayed yet.
    expect(await replay({ dryRun: true })).toMatchObject({
      matched: 3,
      replayed: 0,
      stillInvalid: { UNKNOWN_CUSTOMER: 3 },
      dryRun: true,
    });

    await billing.customer({ tenant, id: GHOST }, { id: 'sub-ghost', start: '2026-01-01' });
    await waitFor(async () => (await api('GET', '/health', undefined)).status === 200, {
      what: 'query health',
    });
    expect(
      await replay({ dryRun: true, filter: { reason: 'UNKNOWN_CUSTOMER', customer: GHOST } }),
    ).toMatchObject({
      matched: 3,
      replayed: 3,
      stillInvalid: {},
    });
    expect(await callsOf()).toBe(0);

    // The real replay: the writer stores them.
    expect(await replay({ dryRun: false, filter: { reason: 'UNKNOWN_CUSTOMER' } })).toMatchObject({
      matched: 3,
      replayed: 3,
      done: true,
    });
    await ingestion.waitForEvents(tenant, 3);
    await billing.recordHistory(lastReplay, 'dead-letter-replay');

    // A second replay of the same letters publishes nothing...
    expect(await replay({ dryRun: false })).toMatchObject({ matched: 3, replayed: 0, alreadyReplayed: 3 });
    // ...and even if the same events reached the stream again (another message id), the writer stores them once.
    const letters: DeadLetter[] = [];
    const consumer = await jetstream(ingestion.nc).consumers.get(ingestion.names.deadLetterStream);
    for await (const m of await consumer.fetch({ max_messages: 3, expires: 2_000 })) {
      letters.push(m.json<DeadLetter>());
      if (letters.length === 3) break;
    }
    await jetstream(ingestion.nc).publish(
      ingestion.names.eventsSubject(tenant),
      encodeBatchMessage({
        v: 1,
        tenant,
        receivedAt: Date.now(),
        events: letters.flatMap((l) => (l.event ? [l.event] : [])),
      }),
      { msgID: 'a-different-message-id' },
    );
    await ingestion.waitForDrained();
    expect(await callsOf()).toBe(3);

    // Billed once: 3 calls, 1 over the free 2 → $10.05.
    const result = await billing.client.workflow.execute('customerInvoiceWorkflow', {
      taskQueue: billing.taskQueue,
      workflowId: billingWorkflowIds.customerInvoice(tenant, GHOST, OCTOBER),
      args: [{ tenant, customer: GHOST, period: OCTOBER, graceSeconds: 0, ...testTimings }],
    });
    expect(result).toMatchObject({ status: 'issued', totalMinor: '1005' });
    const [doc] = await billing.documents(tenant, GHOST);
    expect((doc.lines as InvoiceLine[]).find((l) => l.chargeId === 'calls')).toMatchObject({
      quantity: '3',
      amountMinor: '5',
    });
  });

  it('serves invoices as JSON and as an escaped, printable HTML page', async () => {
    const path = `/v1/customers/${encodeURIComponent(GHOST)}/invoices`;
    const list = await api('GET', `${path}?period=${OCTOBER}`, queryKey);
    expect(list.status).toBe(200);
    expect(list.body.invoices).toEqual([
      expect.objectContaining({
        customer: GHOST,
        period: OCTOBER,
        kind: 'invoice',
        version: 1,
        totalMinor: '1005',
        currency: 'USD',
      }),
    ]);
    const id: string = list.body.invoices[0].invoiceId;

    const json = await api('GET', `/v1/invoices/${id}`, queryKey);
    expect(json.status).toBe(200);
    expect((json.body as InvoiceDocument).fingerprint.eventCount).toBe('3');

    for (const url of [`/v1/invoices/${id}.html`, `/v1/invoices/${id}?format=html`]) {
      const html = await api('GET', url, queryKey);
      expect(html.status).toBe(200);
      expect(html.type).toContain('text/html');
      expect(html.body).toContain('&lt;ghost &amp; &quot;co&quot;&gt;');
      expect(html.body).not.toContain(GHOST);
      expect(html.body).toContain('10.05 USD');
    }

    // Another tenant's key sees nothing of it.
    const other = await ingestion.tenant(`other-${Date.now().toString(36)}`);
    expect((await api('GET', `/v1/invoices/${id}`, other.queryKey)).status).toBe(404);
    expect((await api('GET', path, other.queryKey)).body).toEqual({ invoices: [] });
  });

  it('answers bad requests with 4xx, a stable code and the failing field', async () => {
    expect((await api('GET', '/v1/invoices/x', undefined)).status).toBe(401);
    expect((await api('POST', '/v1/dead-letters/replay', queryKey, { dryRun: true })).body.error.code).toBe(
      'FORBIDDEN',
    );
    const missing = await api('POST', '/v1/dead-letters/replay', adminKey, {});
    expect(missing.status).toBe(422);
    expect(missing.body.error.details).toEqual([expect.objectContaining({ field: 'dryRun' })]);
    const bad = await api('POST', '/v1/dead-letters/replay', adminKey, {
      dryRun: 'yes',
      filter: { reason: 'NOPE', fromSeq: 0 },
      extra: 1,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'dryRun',
      'extra',
      'filter.fromSeq',
      'filter.reason',
    ]);
    const period = await api('GET', `/v1/customers/a/invoices?period=2026-13`, queryKey);
    expect(period.status).toBe(422);
    expect(period.body.error.details).toEqual([
      expect.objectContaining({ field: 'period', code: 'INVALID_PERIOD' }),
    ]);
    expect((await api('GET', `/v1/customers/a/invoices?limit=3`, queryKey)).body.error.code).toBe(
      'UNKNOWN_PARAMETER',
    );
    expect((await api('GET', `/v1/invoices/inv-2026-10-0000000000000000-v1`, queryKey)).status).toBe(404);
    // pdf is a format since invoice PDFs landed; an unknown one is still refused before the lookup
    const unknownFormat = await api('GET', `/v1/invoices/whatever?format=xml`, queryKey);
    expect(unknownFormat.status).toBe(400);
    expect(unknownFormat.body.error.code).toBe('INVALID_FORMAT');
    expect((await api('GET', `/v1/dead-letters/replays/nope`, adminKey)).status).toBe(404);
  });
});
