import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { TallyClient, type TallyClientOptions } from './client';
import {
  TallyConfigError,
  TallyDeliveryError,
  TallyRejectedError,
  TallyUnavailableError,
  TallyValidationError,
} from './errors';
import type { TransportResponse } from './transport';
import type { DropInfo, DropReason, TallyDataPoint, TallyEvent } from './types';
import { accepted, deferred, failure, FakeTransport, hangUntilAborted } from './testing/fake-transport';

const T0 = 1_700_000_000_000;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Drop {
  items: (TallyEvent | TallyDataPoint)[];
  reason: DropReason;
  info: DropInfo;
}

const open: TallyClient[] = [];

/** A client on a fake transport with a frozen clock, jitter 0.5 and a sleep that only records. */
function setup(options: Partial<TallyClientOptions> = {}, transport = new FakeTransport()) {
  const sleeps: number[] = [];
  const drops: Drop[] = [];
  const errors: TallyRejectedError[] = [];
  const clock = { now: T0 };
  const client = new TallyClient({
    transport,
    flushIntervalMs: 60_000, // tests flush explicitly unless they test the timer
    now: () => clock.now,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onDrop: (items, reason, info) => drops.push({ items: [...items], reason, info }),
    onError: (error) => errors.push(error),
    ...options,
  });
  open.push(client);
  return { client, transport, sleeps, drops, errors, clock };
}

const usage = (i: number) => ({ customerId: `c${i}`, metricName: 'api_calls', quantity: i });

afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(open.splice(0).map((c) => c.close({ timeoutMs: 50 })));
});

describe('batching', () => {
  it('sends at most maxBatch events per request, in record order, and a full batch without waiting', async () => {
    const { client, transport } = setup({ maxBatch: 3 });
    const ids = [0, 1, 2].map((i) => client.record(usage(i)));
    expect(transport.requests).toHaveLength(1); // full: sent at once, not after flushIntervalMs
    for (let i = 3; i < 7; i++) ids.push(client.record(usage(i)));
    await client.flush();

    expect(transport.requests.map((r) => r.count)).toEqual([3, 3, 1]);
    expect(transport.requests.flatMap((_, i) => transport.eventIds(i))).toEqual(ids);
    expect(transport.requests.every((r) => r.kind === 'events' && r.body.startsWith('{"events":['))).toBe(
      true,
    );
    expect(client.stats()).toMatchObject({ recorded: 7, accepted: 7, buffered: 0, retries: 0 });
  });

  it('keeps every request under maxBatchBytes, and under the transport limit', async () => {
    for (const [options, transport] of [
      [{ maxBatchBytes: 700 }, new FakeTransport()],
      [{}, new FakeTransport(700)],
    ] as const) {
      const { client } = setup(options, transport);
      for (let i = 0; i < 20; i++) client.record({ ...usage(i), dimensions: { region: 'x'.repeat(100) } });
      await client.flush();
      expect(transport.requests.length).toBeGreaterThan(3);
      expect(transport.requests.every((r) => Buffer.byteLength(r.body) <= 700)).toBe(true);
      expect(transport.requests.reduce((n, r) => n + r.count, 0)).toBe(20);
    }
  });

  it('refuses, at record time, an event no request could carry', () => {
    const { client } = setup({ maxBatchBytes: 2048 });
    expect(() => client.record({ ...usage(1), dimensions: { blob: 'x'.repeat(3000) } })).toThrow(
      expect.objectContaining({ name: 'TallyValidationError', code: 'EVENT_TOO_LARGE' }),
    );
    expect(client.stats().recorded).toBe(0);
  });
});

describe('flush interval', () => {
  it('sends a partial batch flushIntervalMs after the first event, and holds no timer when idle', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    const { client, transport } = setup({ flushIntervalMs: 1000 });
    expect(jest.getTimerCount()).toBe(0);
    client.record(usage(1));
    await jest.advanceTimersByTimeAsync(500);
    client.record(usage(2));
    await jest.advanceTimersByTimeAsync(499);
    expect(transport.requests).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(transport.requests.map((r) => r.count)).toEqual([2]);
    expect(client.stats()).toMatchObject({ accepted: 2, buffered: 0 });
    expect(jest.getTimerCount()).toBe(0);

    client.record(usage(3)); // a new event restarts the clock
    await jest.advanceTimersByTimeAsync(1000);
    expect(transport.requests.map((r) => r.count)).toEqual([2, 1]);
  });
});

describe('ids and timestamps', () => {
  it('assigns a UUIDv7 and the record time when absent, and keeps the ones given', async () => {
    const { client, transport, clock } = setup();
    const generated = client.record({ customerId: 'acme', metricName: 'tokens', quantity: '12.5' });
    const given = client.record({
      customerId: 'acme',
      metricName: 'tokens',
      eventId: 'req-42',
      timestamp: '2024-05-01T12:00:00Z',
      dimensions: { model: 'small', cached: true },
      metadata: { source: 'api' },
    });
    clock.now += 5_000; // sent later: the timestamp is still the record time
    await client.flush();

    expect(generated).toMatch(UUID_V7);
    expect(given).toBe('req-42');
    expect(transport.requests[0].json.events).toEqual([
      { eventId: generated, timestamp: T0, customerId: 'acme', metricName: 'tokens', quantity: '12.5' },
      {
        eventId: 'req-42',
        timestamp: '2024-05-01T12:00:00Z',
        customerId: 'acme',
        metricName: 'tokens',
        dimensions: { model: 'small', cached: true },
        metadata: { source: 'api' },
      },
    ]);
  });

  it('re-sends a retried batch byte for byte: same ids, same timestamps', async () => {
    const transport = new FakeTransport().script(
      failure(503, 'STREAM_UNAVAILABLE', '1'),
      new Error('ECONNRESET'),
    );
    const { client, clock } = setup({}, transport);
    const ids = [1, 2, 3].map((i) => client.record(usage(i)));
    transport.handler = ((inner) => async (request, signal) => {
      clock.now += 60_000; // time passes between attempts
      return inner(request, signal);
    })(transport.handler);
    await client.flush();

    expect(transport.requests).toHaveLength(3);
    expect(new Set(transport.requests.map((r) => r.body)).size).toBe(1);
    expect(transport.eventIds(2)).toEqual(ids);
    expect(client.stats()).toMatchObject({ accepted: 3, retries: 2, failed: 0, dropped: 0 });
  });

  it('sends what was recorded, even if the caller mutates its objects afterwards', async () => {
    const { client, transport } = setup();
    const dimensions: Record<string, string> = { region: 'eu' };
    client.record({ customerId: 'acme', metricName: 'calls', dimensions });
    dimensions.region = 'us';
    await client.flush();
    expect(transport.requests[0].json.events?.[0].dimensions).toEqual({ region: 'eu' });
  });
});

describe('retries', () => {
  it('backs off exponentially with full jitter, capped at maxDelayMs, then drops as retries_exhausted', async () => {
    const transport = new FakeTransport();
    transport.handler = async () => failure(503, 'STREAM_UNAVAILABLE');
    const { client, sleeps, drops } = setup(
      { retry: { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 7 } },
      transport,
    );
    const id = client.record(usage(1));
    await client.flush();

    // random() = 0.5 of the ceilings 100, 200, 400, 800, 1000, 1000
    expect(sleeps).toEqual([50, 100, 200, 400, 500, 500]);
    expect(transport.requests).toHaveLength(7);
    expect(drops).toHaveLength(1);
    expect(drops[0].reason).toBe('retries_exhausted');
    expect((drops[0].items[0] as TallyEvent).eventId).toBe(id);
    const error = drops[0].info.error as TallyDeliveryError;
    expect(error).toBeInstanceOf(TallyDeliveryError);
    expect(error.attempts).toBe(7);
    expect(error.cause).toBeInstanceOf(TallyUnavailableError);
    expect(client.stats()).toMatchObject({ recorded: 1, dropped: 1, retries: 6, buffered: 0 });
  });

  it('draws the delay uniformly below the ceiling', async () => {
    const draws = [0, 0.999, 0.25];
    const transport = new FakeTransport().script(failure(503, 'X'), failure(503, 'X'), failure(503, 'X'));
    const { client, sleeps } = setup({ random: () => draws.shift() ?? 0 }, transport);
    client.record(usage(1));
    await client.flush();
    expect(sleeps).toEqual([0, 199, 100]);
  });

  it('honours Retry-After when it is longer than the backoff, in seconds or as an HTTP date', async () => {
    const transport = new FakeTransport().script(
      failure(429, 'RATE_LIMITED', '5'),
      failure(503, 'STREAM_FULL', new Date(T0 + 7_000).toUTCString()),
      failure(503, 'STREAM_UNAVAILABLE', '0'),
    );
    const { client, sleeps } = setup({ retry: { initialDelayMs: 100, maxDelayMs: 1000 } }, transport);
    client.record(usage(1));
    await client.flush();
    // 5 s and 7 s beat the 50/100 ms backoff (and exceed maxDelayMs); "0" does not shorten the 200 ms one.
    expect(sleeps).toEqual([5000, 7000, 200]);
    expect(client.stats()).toMatchObject({ accepted: 1, retries: 3 });
  });

  it.each([408, 500, 502, 504])('retries a %i', async (status) => {
    const transport = new FakeTransport().script(failure(status, 'X'));
    const { client, errors } = setup({}, transport);
    client.record(usage(1));
    await client.flush();
    expect(transport.requests).toHaveLength(2);
    expect(errors).toHaveLength(0);
    expect(client.stats().accepted).toBe(1);
  });

  it('counts what the gateway reports as duplicates', async () => {
    const transport = new FakeTransport().script(new Error('socket hang up'), accepted(3, 3));
    const { client } = setup({}, transport);
    [1, 2, 3].forEach((i) => client.record(usage(i)));
    await client.flush();
    expect(client.stats()).toMatchObject({ accepted: 0, duplicates: 3, retries: 1 });
  });
});

describe('permanent rejections', () => {
  it('reports a 422 with its details to onError, once, and carries on with the next batch', async () => {
    const details = [{ index: 1, field: 'timestamp', code: 'TIMESTAMP_IN_FUTURE', message: 'too far ahead' }];
    const transport = new FakeTransport().script(failure(422, 'VALIDATION_FAILED', undefined, details));
    const { client, errors, sleeps } = setup({ maxBatch: 2 }, transport);
    const ids = [1, 2, 3].map((i) => client.record(usage(i)));
    await client.flush();

    expect(transport.requests.map((r) => r.count)).toEqual([2, 1]);
    expect(sleeps).toEqual([]);
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toBeInstanceOf(TallyRejectedError);
    expect(error).toMatchObject({ status: 422, code: 'VALIDATION_FAILED', kind: 'events', details });
    expect(error.items.map((e) => (e as TallyEvent).eventId)).toEqual(ids.slice(0, 2));
    expect(client.stats()).toMatchObject({ recorded: 3, failed: 2, accepted: 1, retries: 0, buffered: 0 });
  });

  it.each([400, 401, 403, 404, 413, 415])('does not retry a %i', async (status) => {
    const transport = new FakeTransport().script(failure(status, `E${status}`));
    const { client, errors } = setup({}, transport);
    client.record(usage(1));
    await client.flush();
    expect(transport.requests).toHaveLength(1);
    expect(errors.map((e) => [e.status, e.code])).toEqual([[status, `E${status}`]]);
  });

  it('still reports a rejection whose body is not Tally JSON', async () => {
    const transport = new FakeTransport().script({
      status: 413,
      body: '<html>Request Entity Too Large</html>',
    });
    const { client, errors } = setup({}, transport);
    client.record(usage(1));
    await client.flush();
    expect(errors[0]).toMatchObject({ status: 413, code: 'HTTP_413', details: [] });
  });
});

describe('bounded buffer', () => {
  it('drops the NEW event when maxBufferedEvents are waiting or in flight, and recovers afterwards', async () => {
    const transport = new FakeTransport();
    const gate = deferred<TransportResponse>();
    transport.handler = () => gate.promise;
    const { client, drops } = setup({ maxBufferedEvents: 3, maxBatch: 2 }, transport);

    [1, 2, 3].forEach((i) => client.record(usage(i))); // 2 in flight, 1 waiting
    const rejected = client.record(usage(4));
    expect(rejected).toMatch(UUID_V7);
    expect(drops).toEqual([
      {
        items: [expect.objectContaining({ eventId: rejected, customerId: 'c4' })],
        reason: 'buffer_full',
        info: { kind: 'events' },
      },
    ]);
    expect(client.stats()).toMatchObject({ recorded: 4, dropped: 1, buffered: 3 });

    transport.handler = async (request) => accepted(request.count);
    gate.resolve(accepted(2));
    await client.flush();
    client.record(usage(5));
    await client.flush();
    expect(client.stats()).toMatchObject({ recorded: 5, accepted: 4, dropped: 1, buffered: 0 });
  });
});

describe('close', () => {
  it('flushes what is buffered, closes the transport, and drops later events as closed', async () => {
    const { client, transport, drops } = setup();
    client.record(usage(1));
    client.record(usage(2));
    const closing = client.close();
    expect(client.close()).toBe(closing);
    await closing;

    expect(transport.requests.map((r) => r.count)).toEqual([2]);
    expect(transport.closeCalls).toBe(1);
    client.record(usage(3));
    expect(drops.map((d) => d.reason)).toEqual(['closed']);
    expect(client.stats()).toMatchObject({ recorded: 3, accepted: 2, dropped: 1, buffered: 0 });
  });

  it('stops the linger timer', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    const { client } = setup({ flushIntervalMs: 1000 });
    client.record(usage(1));
    expect(jest.getTimerCount()).toBe(1);
    await client.close();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('on timeout, aborts the request in flight and drops everything unsent as close_timeout', async () => {
    const transport = new FakeTransport();
    const signals: AbortSignal[] = [];
    transport.handler = (_request, signal) => {
      signals.push(signal);
      return hangUntilAborted(signal);
    };
    const { client, drops } = setup({ maxBatch: 2 }, transport);
    const ids = [1, 2, 3, 4, 5].map((i) => client.record(usage(i)));
    await client.close({ timeoutMs: 20 });

    expect(signals[0].aborted).toBe(true);
    expect(drops.every((d) => d.reason === 'close_timeout')).toBe(true);
    expect(drops.flatMap((d) => d.items.map((e) => (e as TallyEvent).eventId)).sort()).toEqual(
      [...ids].sort(),
    );
    expect(client.stats()).toMatchObject({ recorded: 5, dropped: 5, buffered: 0 });
    expect(transport.closeCalls).toBe(1);
  });

  it('on timeout, wakes a batch sleeping between retries', async () => {
    const transport = new FakeTransport();
    transport.handler = async () => failure(503, 'X');
    const { client, drops } = setup({ sleep: () => new Promise<void>(() => undefined) }, transport);
    client.record(usage(1));
    await client.close({ timeoutMs: 20 });
    expect(drops.map((d) => d.reason)).toEqual(['close_timeout']);
    expect(transport.requests).toHaveLength(1);
  });
});

describe('concurrency and flush', () => {
  it('keeps one request in flight by default, and up to `concurrency` when asked', async () => {
    for (const concurrency of [undefined, 3]) {
      const transport = new FakeTransport();
      transport.handler = async (request) => {
        await new Promise((r) => setImmediate(r));
        return accepted(request.count);
      };
      const { client } = setup({ maxBatch: 1, concurrency }, transport);
      for (let i = 0; i < 10; i++) client.record(usage(i));
      await client.flush();
      expect(transport.maxInFlight).toBe(concurrency ?? 1);
      expect(client.stats().accepted).toBe(10);
    }
  });

  it('leaves no abort listener behind once requests and retries are over', async () => {
    const transport = new FakeTransport().script(failure(503, 'X'), new Error('ECONNRESET'));
    let signal: AbortSignal | undefined;
    const inner = transport.handler;
    transport.handler = (request, s) => {
      signal = s;
      return inner(request, s);
    };
    const { client } = setup({ maxBatch: 1 }, transport);
    for (let i = 0; i < 20; i++) client.record(usage(i));
    await client.flush();
    expect(transport.requests).toHaveLength(22);
    expect(getEventListeners(signal as AbortSignal, 'abort')).toHaveLength(0);
  });

  it('resolves flush() once what was recorded before it is settled, not what came after', async () => {
    const transport = new FakeTransport();
    const gate = deferred<TransportResponse>();
    transport.handler = () => gate.promise;
    const { client } = setup({}, transport);
    await client.flush(); // nothing buffered

    client.record(usage(1));
    let flushed = false;
    const flushing = client.flush().then(() => (flushed = true));
    client.record(usage(2)); // after the flush call
    await new Promise((r) => setImmediate(r));
    expect(flushed).toBe(false);
    transport.handler = () => new Promise<TransportResponse>(() => undefined); // the 2nd batch never answers
    gate.resolve(accepted(1));
    await flushing;
    expect(client.stats()).toMatchObject({ accepted: 1, buffered: 1 });
  });
});

describe('Analytics Engine data sets', () => {
  it('sends data points to their data set in batches of at most 250, never mixed with events', async () => {
    const { client, transport } = setup();
    const dataset = client.dataset('usage_indexed_by_customer_id');
    expect(client.dataset('usage_indexed_by_customer_id')).toBe(dataset);
    const id = dataset.writeDataPoint({ indexes: ['acme'], blobs: ['/v1/things', null], doubles: [1, 0.25] });
    for (let i = 1; i < 600; i++) dataset.writeDataPoint({ indexes: [`c${i}`], doubles: [1] });
    client.record(usage(1));
    await client.flush();

    const points = transport.requests.filter((r) => r.kind === 'points');
    expect(points.map((r) => r.count)).toEqual([250, 250, 100]);
    expect(
      points.every((r) => r.dataset === 'usage_indexed_by_customer_id' && r.json.events === undefined),
    ).toBe(true);
    expect(points[0].json.points?.[0]).toEqual({
      id,
      timestamp: T0,
      indexes: ['acme'],
      blobs: ['/v1/things', null],
      doubles: [1, 0.25],
    });
    expect(id).toMatch(UUID_V7);
    expect(transport.requests.filter((r) => r.kind === 'events').map((r) => r.count)).toEqual([1]);
    expect(client.stats()).toMatchObject({ recorded: 601, accepted: 601 });
  });

  it('reports a rejected data point batch with its data set', async () => {
    const transport = new FakeTransport().script(failure(403, 'FORBIDDEN'));
    const { client, errors } = setup({}, transport);
    client.dataset('d1').writeDataPoint({ doubles: [1] });
    await client.flush();
    expect(errors[0]).toMatchObject({ kind: 'points', dataset: 'd1', status: 403 });
  });

  it('refuses invalid data set names and points at once', () => {
    const { client } = setup();
    expect(() => client.dataset('a.b')).toThrow(TallyValidationError);
    expect(() => client.dataset('usage').writeDataPoint({ indexes: ['a', 'b'] })).toThrow(
      expect.objectContaining({ code: 'INDEXES_INVALID' }),
    );
  });
});

describe('options', () => {
  it('reports every invalid option at once', () => {
    const attempt = () =>
      new TallyClient({
        transport: new FakeTransport(),
        maxBatch: 0,
        concurrency: 1.5,
        retry: { maxAttempts: 0, initialDelayMs: 10, maxDelayMs: 5 },
      });
    expect(attempt).toThrow(TallyConfigError);
    expect(attempt).toThrow(/maxBatch.*concurrency.*retry\.maxAttempts.*retry\.maxDelayMs/);
  });

  it('keeps delivering when a callback throws', async () => {
    const transport = new FakeTransport().script(failure(422, 'VALIDATION_FAILED'));
    const { client } = setup(
      {
        maxBatch: 1,
        onError: () => {
          throw new Error('bug in the application');
        },
      },
      transport,
    );
    client.record(usage(1));
    client.record(usage(2));
    await client.flush();
    expect(client.stats()).toMatchObject({ failed: 1, accepted: 1, buffered: 0 });
  });
});

describe('accounting', () => {
  type Reply = 'ok' | 'dup' | 'unavailable' | 'network' | 'invalid';
  const reply = (kind: Reply, count: number): TransportResponse | Error => {
    switch (kind) {
      case 'ok':
        return accepted(count);
      case 'dup':
        return accepted(count, count);
      case 'unavailable':
        return failure(503, 'STREAM_UNAVAILABLE', '0');
      case 'network':
        return new Error('ECONNREFUSED');
      case 'invalid':
        return failure(422, 'VALIDATION_FAILED');
    }
  };

  it('gives every recorded event exactly one outcome, whatever the gateway answers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Reply>('ok', 'dup', 'unavailable', 'network', 'invalid'), { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 8 }), // events recorded between flushes
        fc.record({
          maxBatch: fc.integer({ min: 1, max: 4 }),
          maxBufferedEvents: fc.integer({ min: 1, max: 8 }),
          maxAttempts: fc.integer({ min: 1, max: 3 }),
          concurrency: fc.integer({ min: 1, max: 3 }),
        }),
        async (replies, bursts, o) => {
          const transport = new FakeTransport();
          const settledOk = new Map<string, number>();
          transport.handler = async (request) => {
            const r = reply(replies.shift() ?? 'ok', request.count);
            if (r instanceof Error) throw r;
            if (r.status === 202)
              for (const e of request.json.events ?? [])
                settledOk.set(String(e.eventId), (settledOk.get(String(e.eventId)) ?? 0) + 1);
            return r;
          };
          const outcomes = new Map<string, string[]>();
          const note = (id: string, what: string) => outcomes.set(id, [...(outcomes.get(id) ?? []), what]);
          const client = new TallyClient({
            transport,
            maxBatch: o.maxBatch,
            maxBufferedEvents: o.maxBufferedEvents,
            concurrency: o.concurrency,
            flushIntervalMs: 60_000,
            retry: { maxAttempts: o.maxAttempts },
            sleep: async () => undefined,
            onDrop: (items, reason) => items.forEach((e) => note((e as TallyEvent).eventId, reason)),
            onError: (error) => error.items.forEach((e) => note((e as TallyEvent).eventId, 'rejected')),
          });
          const ids: string[] = [];
          let n = 0;
          for (const burst of bursts) {
            for (let i = 0; i < burst; i++) ids.push(client.record(usage(n++)));
            const s = client.stats();
            expect(s.recorded).toBe(s.accepted + s.duplicates + s.failed + s.dropped + s.buffered);
            expect(s.buffered).toBeLessThanOrEqual(o.maxBufferedEvents);
            await client.flush();
          }
          await client.close();

          for (const [id, count] of settledOk) note(id, count === 1 ? 'accepted' : 'accepted twice');
          const s = client.stats();
          expect(s.buffered).toBe(0);
          expect(s.recorded).toBe(ids.length);
          expect(s.recorded).toBe(s.accepted + s.duplicates + s.failed + s.dropped);
          for (const id of ids) {
            expect([id, outcomes.get(id)?.length]).toEqual([id, 1]);
            expect(outcomes.get(id)?.[0]).not.toBe('accepted twice');
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
