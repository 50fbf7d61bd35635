import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { freePort } from '@tally/testing';
import { TallyClient } from './client';
import { TallyDeliveryError, type TallyRejectedError } from './errors';
import { httpTransport } from './http-transport';
import type { DropReason, TallyEvent } from './types';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP server on a free port that plays the gateway with `reply`. */
async function fakeGateway(reply: (seen: Seen, n: number, res: ServerResponse) => void) {
  const requests: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(seen);
      reply(seen, requests.length - 1, res);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The gateway's 202 body for the batch it was sent. */
function acceptAll(seen: Seen, res: ServerResponse): void {
  const items = (JSON.parse(seen.body) as { events?: TallyEvent[]; points?: unknown[] }).events ?? [];
  json(res, 202, {
    accepted: items.length,
    duplicates: 0,
    events: items.map((e, index) => ({ index, id: e.eventId, duplicate: false })),
  });
}

const eventIdsOf = (seen: Seen) =>
  (JSON.parse(seen.body) as { events: TallyEvent[] }).events.map((e) => e.eventId);

describe('httpTransport against a real HTTP server', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  it('waits out two 503 Retry-After: 1 answers, then delivers the same event ids', async () => {
    const gateway = await fakeGateway((seen, n, res) => {
      if (n < 2) {
        json(
          res,
          503,
          { error: { code: 'STREAM_UNAVAILABLE', message: 'Event stream unavailable; retry later' } },
          { 'retry-after': '1' },
        );
      } else acceptAll(seen, res);
    });
    stops.push(gateway.close);
    const tally = new TallyClient({
      transport: httpTransport({ baseUrl: gateway.url, apiKey: 'tk_test_123' }),
      // The backoff alone would wait at most 50 ms: only Retry-After explains a 2 s delivery.
      retry: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    stops.push(() => tally.close());

    const ids = [1, 2, 3].map((i) =>
      tally.record({ customerId: `cust_${i}`, metricName: 'api_calls', quantity: i }),
    );
    const started = Date.now();
    await tally.flush();
    const elapsed = Date.now() - started;

    expect(gateway.requests).toHaveLength(3);
    expect(elapsed).toBeGreaterThanOrEqual(1990);
    for (const seen of gateway.requests) {
      expect(seen).toMatchObject({ method: 'POST', url: '/v1/events' });
      expect(seen.headers.authorization).toBe('Bearer tk_test_123');
      expect(seen.headers['content-type']).toBe('application/json');
      expect(eventIdsOf(seen)).toEqual(ids);
    }
    expect(new Set(gateway.requests.map((s) => s.body)).size).toBe(1);
    expect(tally.stats()).toMatchObject({
      recorded: 3,
      accepted: 3,
      retries: 2,
      failed: 0,
      dropped: 0,
      buffered: 0,
    });
  });

  it('hands a 422 to onError with its details and does not retry it', async () => {
    const details = [
      { index: 1, field: 'timestamp', code: 'TIMESTAMP_IN_FUTURE', message: 'ahead of the receipt time' },
    ];
    const gateway = await fakeGateway((_seen, _n, res) =>
      json(res, 422, { error: { code: 'VALIDATION_FAILED', message: 'Request rejected', details } }),
    );
    stops.push(gateway.close);
    const errors: TallyRejectedError[] = [];
    const tally = new TallyClient({
      transport: httpTransport({ baseUrl: gateway.url, apiKey: 'k' }),
      onError: (error) => errors.push(error),
    });
    stops.push(() => tally.close());

    tally.record({ customerId: 'a', metricName: 'm' });
    tally.record({ customerId: 'b', metricName: 'm', timestamp: Date.now() + 3_600_000 });
    await tally.flush();

    expect(gateway.requests).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 422, code: 'VALIDATION_FAILED', details });
    expect((errors[0].items[1] as TallyEvent).customerId).toBe('b');
    expect(tally.stats()).toMatchObject({ failed: 2, retries: 0 });
  });

  it('posts data points under the base URL path to /v1/datasets/<name>/points', async () => {
    const gateway = await fakeGateway((_seen, _n, res) => json(res, 202, { accepted: 2, duplicates: 0 }));
    stops.push(gateway.close);
    const tally = new TallyClient({
      transport: httpTransport({ baseUrl: `${gateway.url}/metering/`, apiKey: 'k' }),
    });
    stops.push(() => tally.close());

    const dataset = tally.dataset('usage_indexed_by_customer_id');
    dataset.writeDataPoint({ indexes: ['acme'], blobs: ['/v1/things'], doubles: [1] });
    dataset.writeDataPoint({ indexes: ['globex'], blobs: ['/v1/other'], doubles: [2] });
    await tally.flush();

    expect(gateway.requests.map((s) => s.url)).toEqual([
      '/metering/v1/datasets/usage_indexed_by_customer_id/points',
    ]);
    const body = JSON.parse(gateway.requests[0].body) as { points: { indexes: string[] }[] };
    expect(body.points.map((p) => p.indexes)).toEqual([['acme'], ['globex']]);
    expect(tally.stats()).toMatchObject({ accepted: 2 });
  });

  it('retries a refused connection and, when attempts run out, drops with the network error as cause', async () => {
    const port = await freePort(); // nothing listens there
    const drops: { reason: DropReason; error: unknown }[] = [];
    const tally = new TallyClient({
      transport: httpTransport({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'k' }),
      retry: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 },
      onDrop: (_items, reason, info) => drops.push({ reason, error: info.error }),
    });
    stops.push(() => tally.close());
    tally.record({ customerId: 'a', metricName: 'm' });
    await tally.flush();

    expect(drops).toHaveLength(1);
    expect(drops[0].reason).toBe('retries_exhausted');
    expect(drops[0].error).toBeInstanceOf(TallyDeliveryError);
    expect(String((drops[0].error as TallyDeliveryError).cause)).toMatch(/ECONNREFUSED/);
    expect(tally.stats()).toMatchObject({ retries: 2, dropped: 1 });
  });

  it('aborts a request the gateway never answers when close() times out', async () => {
    let socketClosed = false;
    const gateway = await fakeGateway((_seen, _n, res) => res.on('close', () => (socketClosed = true)));
    stops.push(gateway.close);
    const drops: DropReason[] = [];
    const tally = new TallyClient({
      transport: httpTransport({ baseUrl: gateway.url, apiKey: 'k' }),
      onDrop: (items, reason) => items.forEach(() => drops.push(reason)),
    });
    tally.record({ customerId: 'a', metricName: 'm' });
    tally.record({ customerId: 'b', metricName: 'm' });
    await tally.close({ timeoutMs: 300 });

    expect(drops).toEqual(['close_timeout', 'close_timeout']);
    expect(tally.stats()).toMatchObject({ dropped: 2, buffered: 0 });
    await new Promise((r) => setTimeout(r, 50));
    expect(socketClosed).toBe(true);
  });
});
