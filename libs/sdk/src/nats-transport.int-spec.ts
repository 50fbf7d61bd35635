import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { randomPrefix, testNatsAuth, testNatsUrl } from '@tally/testing';
import { TallyClient } from './client';
import type { TallyRejectedError } from './errors';
import { natsTransport } from './nats-transport';
import type { DropReason, TallyEvent } from './types';

interface Seen {
  subject: string;
  authorization: string;
  contentType: string;
  body: string;
}

type Reply = { status: string; body: unknown; retryAfter?: string };

describe('natsTransport against a real NATS server', () => {
  let client: NatsConnection; // the SDK's connection
  let gateway: NatsConnection; // the test's stand-in for the gateway, on its own connection
  let prefix: string;

  beforeAll(async () => {
    const { natsUser: user, natsPassword: pass } = testNatsAuth();
    client = await connect({ servers: testNatsUrl(), name: 'sdk.int-spec client', user, pass });
    gateway = await connect({ servers: testNatsUrl(), name: 'sdk.int-spec gateway', user, pass });
  });
  afterAll(async () => {
    await client.close();
    await gateway.close();
  });
  beforeEach(() => {
    prefix = randomPrefix('sdk');
  });

  /** Answers requests on `subject` with `replies` in turn (then 202), each with a Tally-Status header. */
  async function respond(subject: string, replies: Reply[]): Promise<Seen[]> {
    const seen: Seen[] = [];
    gateway.subscribe(subject, {
      callback: (_err, msg: Msg) => {
        seen.push({
          subject: msg.subject,
          authorization: msg.headers?.get('Authorization') ?? '',
          contentType: msg.headers?.get('Content-Type') ?? '',
          body: msg.string(),
        });
        const parsed = JSON.parse(msg.string()) as { events?: TallyEvent[]; points?: unknown[] };
        const count = (parsed.events ?? parsed.points ?? []).length;
        const reply = replies.shift() ?? {
          status: '202',
          body: { accepted: count, duplicates: 0, events: [] },
        };
        const h = headers();
        h.set('Tally-Status', reply.status);
        if (reply.retryAfter) h.set('Retry-After', reply.retryAfter);
        msg.respond(JSON.stringify(reply.body), { headers: h });
      },
    });
    await gateway.flush(); // the subscription exists on the server before the test sends
    return seen;
  }

  it('retries a 503 reply (honouring its Retry-After) and re-sends the same event ids', async () => {
    const seen = await respond(`${prefix}.ingest.acme`, [
      {
        status: '503',
        body: { error: { code: 'STREAM_UNAVAILABLE', message: 'retry later' } },
        retryAfter: '1',
      },
    ]);
    const tally = new TallyClient({
      transport: natsTransport({
        connection: client,
        tenant: 'acme',
        apiKey: 'tk_nats',
        subjectPrefix: prefix,
      }),
      retry: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    const ids = [1, 2].map((i) => tally.record({ customerId: `c${i}`, metricName: 'api_calls' }));
    const started = Date.now();
    await tally.close();

    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s).toMatchObject({
        subject: `${prefix}.ingest.acme`,
        authorization: 'Bearer tk_nats',
        contentType: 'application/json',
      });
      expect((JSON.parse(s.body) as { events: TallyEvent[] }).events.map((e) => e.eventId)).toEqual(ids);
    }
    expect(seen[0].body).toBe(seen[1].body);
    expect(tally.stats()).toMatchObject({ accepted: 2, retries: 1, buffered: 0 });
    expect(client.isClosed()).toBe(false); // not the SDK's to close
  });

  it('takes the verdict from Tally-Status, not from the body', async () => {
    const details = [{ index: 0, field: 'customerId', code: 'CUSTOMER_INVALID', message: 'unknown' }];
    await respond(`${prefix}.ingest.acme`, [
      { status: '422', body: { error: { code: 'VALIDATION_FAILED', message: 'rejected', details } } },
      // A body that looks like success does not make a 401 one.
      { status: '401', body: { accepted: 1, duplicates: 0, events: [] } },
    ]);
    const errors: TallyRejectedError[] = [];
    const tally = new TallyClient({
      transport: natsTransport({ connection: client, tenant: 'acme', apiKey: 'k', subjectPrefix: prefix }),
      maxBatch: 1,
      onError: (error) => errors.push(error),
    });
    tally.record({ customerId: 'x', metricName: 'm' });
    tally.record({ customerId: 'y', metricName: 'm' });
    tally.record({ customerId: 'z', metricName: 'm' });
    await tally.close();

    expect(errors.map((e) => [e.status, e.code])).toEqual([
      [422, 'VALIDATION_FAILED'],
      [401, 'HTTP_401'],
    ]);
    expect(errors[0].details).toEqual(details);
    expect(tally.stats()).toMatchObject({ failed: 2, accepted: 1, retries: 0 });
  });

  it('retries "no responders" until a gateway subscribes', async () => {
    const subject = `${prefix}.ingest.acme`;
    let seen: Seen[] = [];
    const tally = new TallyClient({
      transport: natsTransport({
        connection: client,
        tenant: 'acme',
        apiKey: 'k',
        subjectPrefix: prefix,
        timeoutMs: 2000,
      }),
      sleep: async () => {
        if (seen.length === 0) seen = await respond(subject, []); // the gateway comes up during the backoff
      },
    });
    const id = tally.record({ customerId: 'c', metricName: 'm' });
    await tally.flush();

    expect(tally.stats()).toMatchObject({ accepted: 1, retries: 1 });
    expect((JSON.parse(seen[0].body) as { events: TallyEvent[] }).events[0].eventId).toBe(id);
    await tally.close();
  });

  it('gives up on a silent subject after maxAttempts timeouts', async () => {
    gateway.subscribe(`${prefix}.ingest.acme`, { callback: () => undefined }); // receives, never answers
    await gateway.flush();
    const drops: DropReason[] = [];
    const tally = new TallyClient({
      transport: natsTransport({
        connection: client,
        tenant: 'acme',
        apiKey: 'k',
        subjectPrefix: prefix,
        timeoutMs: 100,
      }),
      retry: { initialDelayMs: 1, maxDelayMs: 1, maxAttempts: 2 },
      onDrop: (_items, reason) => drops.push(reason),
    });
    tally.record({ customerId: 'c', metricName: 'm' });
    await tally.close();
    expect(drops).toEqual(['retries_exhausted']);
  });

  it('sends data points to <prefix>.points.<tenant>.<dataset> and sizes batches by max_payload', async () => {
    const seen = await respond(`${prefix}.points.acme.>`, []);
    const transport = natsTransport({
      connection: client,
      tenant: 'acme',
      apiKey: 'k',
      subjectPrefix: prefix,
    });
    expect(transport.maxBatchBytes).toBe((client.info?.max_payload ?? 0) - 4096);
    const tally = new TallyClient({ transport });
    tally
      .dataset('usage_indexed_by_customer_id')
      .writeDataPoint({ indexes: ['acme'], blobs: ['/x'], doubles: [1] });
    await tally.close();

    expect(seen.map((s) => s.subject)).toEqual([`${prefix}.points.acme.usage_indexed_by_customer_id`]);
    expect(JSON.parse(seen[0].body)).toMatchObject({
      points: [{ indexes: ['acme'], blobs: ['/x'], doubles: [1] }],
    });
    expect(tally.stats()).toMatchObject({ accepted: 1 });
  });
});
