import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { listDeadLetters } from '@tally/ingest-protocol';
import { waitFor } from '@tally/testing';
import { IngestionHarness } from './ingestion-harness';

const now = () => Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

describe('ingestion end to end (gateway + writer on real NATS and ClickHouse)', () => {
  const h = new IngestionHarness({ gatewayEnv: { GATEWAY_BODY_LIMIT_BYTES: String(64 * 1024) } });
  let key: string;
  let queryKey: string;

  beforeAll(async () => {
    await h.start();
    ({ ingestKey: key, queryKey } = await h.tenant('acme'));
  }, 120_000);
  afterAll(() => h.stop());

  it('accepts the native, Billingrails and CloudEvents formats and stores them exactly', async () => {
    const t = now() - 60_000;
    const native = await h.post(
      {
        events: [
          {
            eventId: 'n-1',
            timestamp: t,
            customerId: 'cust-native',
            metricName: 'tokens',
            quantity: '12.000000000001',
            dimensions: { model: 'large' },
            metadata: { source: 'svc-a', version: '1', requestId: 'r-1' },
          },
        ],
      },
      key,
    );
    const billingrails = await h.post(
      {
        event_name: 'Song played',
        properties: { song_id: '12345', artist: 'The Beatles', duration: 240, billingrails_account_id: 'acct_67890' },
        idempotency_key: 'unique_event_id_12345',
        timestamp: iso(t),
      },
      key,
    );
    const cloudEvent = await h.post(
      { specversion: '1.0', id: 'ce-1', source: '/svc/b', type: 'api_call', subject: 'cust-ce', time: iso(t), data: { quantity: 3 } },
      key,
      'application/cloudevents+json',
    );
    const cloudBatch = await h.post(
      [
        { specversion: '1.0', id: 'ce-2', source: '/svc/b', type: 'api_call', subject: 'cust-ce', time: iso(t) },
        { specversion: '1.0', id: 'ce-3', source: '/svc/b', type: 'api_call', subject: 'cust-ce', time: iso(t), data: { quantity: '0.5' } },
      ],
      key,
      'application/cloudevents-batch+json',
    );
    for (const r of [native, billingrails, cloudEvent, cloudBatch]) expect(r.status).toBe(202);
    expect(native.body).toEqual({ accepted: 1, duplicates: 0, events: [{ index: 0, id: 'n-1', duplicate: false }] });
    expect(cloudBatch.body.accepted).toBe(2);

    await h.waitForEvents('acme', 5);
    const rows = await h.rows('acme');
    expect(rows.map((r) => [r.event_id, r.customer, r.event_type, r.quantity])).toEqual([
      ['ce-1', 'cust-ce', 'api_call', '3'],
      ['ce-2', 'cust-ce', 'api_call', '1'],
      ['ce-3', 'cust-ce', 'api_call', '0.5'],
      ['n-1', 'cust-native', 'tokens', '12.000000000001'],
      ['unique_event_id_12345', 'acct_67890', 'Song played', '1'],
    ]);
    const song = rows.find((r) => r.event_id === 'unique_event_id_12345')!;
    expect(Object.fromEntries(song.props)).toEqual({ song_id: '12345', artist: 'The Beatles', duration: '240' });
    expect(Number(rows[3].ts) * 1000 + Number(rows[3].ts_ms)).toBe(t);
  });

  it('rejects a batch atomically with every bad event named, and stores none of it', async () => {
    const response = await h.post(
      {
        events: [
          { eventId: 'atomic-ok', customerId: 'cust-atomic', metricName: 'tokens', quantity: 1 },
          { eventId: 'atomic-future', customerId: 'cust-atomic', metricName: 'tokens', timestamp: now() + 3_600_000 },
          { eventId: 'atomic-bad-qty', customerId: 'cust-atomic', metricName: 'tokens', quantity: 'lots' },
        ],
      },
      key,
    );
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.details).toEqual([
      expect.objectContaining({ index: 1, field: 'timestamp', code: 'TIMESTAMP_IN_FUTURE' }),
      expect.objectContaining({ index: 2, field: 'quantity', code: 'QUANTITY_INVALID' }),
    ]);
    // A marker sent after the rejected batch is stored; once it is, the batch would have been too.
    expect((await h.post({ eventId: 'atomic-marker', customerId: 'cust-atomic', metricName: 'tokens' }, key)).status).toBe(202);
    await waitFor(async () => (await h.rows('acme')).some((r) => r.event_id === 'atomic-marker'), { what: 'marker' });
    expect((await h.rows('acme')).filter((r) => r.customer === 'cust-atomic').map((r) => r.event_id)).toEqual(['atomic-marker']);
  });

  it('counts the same batch sent twice once, and says the second was a duplicate', async () => {
    const batch = { events: [1, 2, 3].map((i) => ({ eventId: `dup-${i}`, customerId: 'cust-dup', metricName: 'calls', quantity: i })) };
    const first = await h.post(batch, key);
    const second = await h.post(batch, key);
    expect(first.body).toMatchObject({ accepted: 3, duplicates: 0 });
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ accepted: 0, duplicates: 3 });
    // Re-sent inside a different batch (not recognisable by JetStream): the writer drops them.
    expect((await h.post({ events: [...batch.events, { eventId: 'dup-4', customerId: 'cust-dup', metricName: 'calls', quantity: 4 }] }, key)).status).toBe(202);
    await waitFor(async () => (await h.rows('acme')).some((r) => r.event_id === 'dup-4'), { what: 'dup-4' });
    await h.waitForDrained();
    const dupRows = (await h.rows('acme')).filter((r) => r.customer === 'cust-dup');
    expect(dupRows.map((r) => r.quantity)).toEqual(['1', '2', '3', '4']);
  });

  it('dead-letters a reused idempotency key with a different payload, listable with its reason', async () => {
    expect((await h.post({ eventId: 'conflict-1', customerId: 'cust-dl', metricName: 'calls', quantity: 1 }, key)).status).toBe(202);
    await waitFor(async () => (await h.rows('acme')).some((r) => r.event_id === 'conflict-1'), { what: 'conflict-1' });
    expect((await h.post({ eventId: 'conflict-1', customerId: 'cust-dl', metricName: 'calls', quantity: 999 }, key)).status).toBe(202);

    const letters = await waitFor(
      async () => {
        const { letters } = await listDeadLetters(h.nc, h.names, { tenant: 'acme', limit: 10 });
        return letters.length ? letters : undefined;
      },
      { what: 'a dead letter' },
    );
    expect(letters[0]).toMatchObject({
      reason: 'IDEMPOTENCY_CONFLICT',
      tenant: 'acme',
      event: { id: 'conflict-1', quantity: '999', customer: 'cust-dl' },
      deliveryCount: 1,
    });
    expect(letters[0].firstSeenAt).toBeGreaterThan(0);
    expect((await h.rows('acme')).filter((r) => r.event_id === 'conflict-1').map((r) => r.quantity)).toEqual(['1']);
  });

  it('answers NATS ingress requests exactly like HTTP', async () => {
    const request = async (body: unknown, tenant = 'acme', auth = `Bearer ${key}`) => {
      const h2 = natsHeaders();
      h2.set('Authorization', auth);
      h2.set('Content-Type', 'application/json');
      const reply = await h.nc.request(h.names.ingestSubject(tenant), JSON.stringify(body), { timeout: 5_000, headers: h2 });
      return { status: Number(reply.headers?.get('Tally-Status')), body: reply.json<any>() };
    };
    const good = { eventId: 'nats-1', customerId: 'cust-nats', metricName: 'calls', quantity: 2 };
    const bad = { events: [good, { customerId: 'cust-nats' }] };

    expect(await request(good)).toEqual({
      status: 202,
      body: { accepted: 1, duplicates: 0, events: [{ index: 0, id: 'nats-1', duplicate: false }] },
    });
    const viaNats = await request(bad);
    const viaHttp = await h.post(bad, key);
    expect(viaNats.status).toBe(422);
    expect(viaNats).toEqual({ status: viaHttp.status, body: viaHttp.body });
    expect((await request(good, 'globex')).status).toBe(403);
    expect((await request(good, 'acme', 'Bearer nope')).status).toBe(401);
    await waitFor(async () => (await h.rows('acme')).some((r) => r.event_id === 'nats-1'), { what: 'nats-1' });
  });

  it('answers bad requests with clear 4xx codes, never a 500', async () => {
    const big = { events: Array.from({ length: 800 }, (_, i) => ({ eventId: `big-${i}`, customerId: 'c', metricName: 'm', dimensions: { pad: 'x'.repeat(100) } })) };
    const cases = [
      [await h.post('{"events": [', key), 400, 'MALFORMED_JSON'],
      [await h.post('hello', key, 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [await h.post(big, key), 413, 'PAYLOAD_TOO_LARGE'],
      [await h.post({ customerId: 'c', metricName: 'm' }, 'not-a-key'), 401, 'UNAUTHORIZED'],
      [await h.post({ customerId: 'c', metricName: 'm' }, queryKey), 403, 'FORBIDDEN'],
      [await h.post({ events: [] }, key), 422, 'VALIDATION_FAILED'],
      [await h.post(42, key), 422, 'VALIDATION_FAILED'],
    ] as const;
    for (const [response, status, code] of cases) {
      expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
    }
  });

  it('rate-limits a tenant with 429 and Retry-After', async () => {
    // 1 event/s and 50 events per request: the second request is refused unless 50 s passed between
    // the two, a margin no busy machine eats (the time taken is logged and checked, not assumed).
    const { ingestKey } = await h.tenant('slowco', { rateLimitPerSecond: 1, latenessLimitDays: 1 });
    // Positive marker that the gateway has the tenant's own limits (it falls back to defaults before
    // its watch delivers them): a 3-day-old event is refused as too old under this tenant's 1-day
    // limit. Validation comes before the rate limiter, so the probe spends no tokens.
    const old = { customerId: 'c', metricName: 'm', eventId: 'rl-old', timestamp: new Date(Date.now() - 3 * 86_400_000).toISOString() };
    await waitFor(async () => (await h.post(old, ingestKey)).body?.error?.details?.[0]?.code === 'TIMESTAMP_TOO_OLD', {
      what: "the gateway to apply slowco's limits",
    });
    const batch = (suffix: string) => ({
      events: Array.from({ length: 50 }, (_, i) => ({ customerId: 'c', metricName: 'm', eventId: `rl-${i}-${suffix}` })),
    });
    const started = Date.now();
    expect((await h.post(batch('a'), ingestKey)).status).toBe(202);
    const limited = await h.post(batch('b'), ingestKey);
    const elapsedMs = Date.now() - started;
    console.log(`rate limit: second request answered ${elapsedMs} ms after the first was sent`);
    expect(elapsedMs).toBeLessThan(50_000);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(50);
  });

  it('runs the writer at a lower CPU priority than the gateway, every thread of it', () => {
    // /proc/<pid>/task/<tid>/stat: the nice value is the 19th field, the 17th after the command.
    const niceOf = (pid: number) =>
      readdirSync(`/proc/${pid}/task`).map((tid) => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]));
    const writerThreads = niceOf(h.writer?.child.pid as number);
    expect(writerThreads.length).toBeGreaterThan(1);
    expect(new Set(writerThreads)).toEqual(new Set([10]));
    // The gateway keeps the priority it was started with (this test's own, not necessarily 0: CI
    // may itself run under nice); the writer lowers its own below that.
    const inherited = getPriority();
    expect(new Set(niceOf(h.gateway?.child.pid as number))).toEqual(new Set([inherited]));
    if (inherited < 10) expect(Math.min(...writerThreads)).toBeGreaterThan(inherited);
  });
});
