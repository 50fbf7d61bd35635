import { TallyError } from '@tally/errors';
import { batchMessageId, type IngestBatchMessage } from '@tally/ingest-protocol';
import type { EventPublisher, PublishAck } from './event-publisher';
import { IngestService, type Role } from './ingest.service';

/**
 * Stands in for JetStream's duplicate window: a batch is a duplicate when its message id (the
 * production `batchMessageId`, which the real publisher sends as Nats-Msg-Id) was seen before. The
 * fake decides nothing itself, so a service that changed a re-sent request's events (new ids, a
 * different fingerprint) would be caught here.
 */
class DedupWindowPublisher implements EventPublisher {
  readonly published: IngestBatchMessage[] = [];
  readonly messageIds: string[] = [];
  private readonly seen = new Set<string>();
  async publish(batch: IngestBatchMessage): Promise<PublishAck> {
    const id = batchMessageId(batch);
    this.messageIds.push(id);
    const duplicate = this.seen.has(id);
    this.seen.add(id);
    if (!duplicate) this.published.push(batch);
    return { duplicate, seq: this.published.length };
  }
}

/** Answers every publish with a fixed ack: what the service does with the ack, nothing else. */
class FixedAckPublisher implements EventPublisher {
  calls = 0;
  constructor(private readonly duplicate: boolean) {}
  async publish(): Promise<PublishAck> {
    this.calls += 1;
    return { duplicate: this.duplicate, seq: 7 };
  }
}

const keys: Record<string, { tenant: string; role: Role }> = {
  'k-ingest': { tenant: 'acme', role: 'ingest' },
  'k-query': { tenant: 'acme', role: 'query' },
};

function service(publisher: EventPublisher = new DedupWindowPublisher(), rateLimitPerSecond = 1_000) {
  return new IngestService(
    { resolve: (k) => keys[k] },
    { limits: () => ({ latenessLimitDays: 35, rateLimitPerSecond }) },
    publisher,
    {
      maxBatch: 1000,
      maxFutureMs: 300_000,
      billingrailsCustomerProperty: 'billingrails_account_id',
      defaultLimits: { latenessLimitDays: 35, rateLimitPerSecond },
    },
  );
}

const NOW = Date.UTC(2026, 10, 21, 12);
const request = (body: unknown, authorization = 'Bearer k-ingest', contentType = 'application/json') => ({
  authorization,
  contentType,
  body,
  nowMs: NOW,
});

async function failure(promise: Promise<unknown>): Promise<TallyError> {
  try {
    await promise;
  } catch (e) {
    return e as TallyError;
  }
  throw new Error('expected a rejection');
}

describe('IngestService', () => {
  it('publishes one message per request with the tenant of the key and answers per event', async () => {
    const publisher = new DedupWindowPublisher();
    const result = await service(publisher).ingest(
      request({
        events: [
          { eventId: 'a', customerId: 'c', metricName: 'm' },
          { eventId: 'a', customerId: 'c', metricName: 'm' },
        ],
      }),
    );
    expect(result).toEqual({
      accepted: 1,
      duplicates: 1,
      events: [
        { index: 0, id: 'a', duplicate: false },
        { index: 1, id: 'a', duplicate: true },
      ],
    });
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]).toMatchObject({ v: 3, tenant: 'acme', receivedAt: NOW });
  });

  it('reports a re-sent request as duplicates: the same message id for JetStream to recognise', async () => {
    const publisher = new DedupWindowPublisher();
    const s = service(publisher);
    const body = {
      events: [
        { eventId: 'a', customerId: 'c', metricName: 'm' },
        { eventId: 'b', customerId: 'c', metricName: 'm' },
      ],
    };
    expect(await s.ingest(request(body))).toMatchObject({ accepted: 2, duplicates: 0 });
    // Received a second later: the message id depends on the events only, not on the arrival time.
    expect(await s.ingest({ ...request(body), nowMs: NOW + 1_000 })).toMatchObject({
      accepted: 0,
      duplicates: 2,
    });
    expect(publisher.messageIds).toHaveLength(2);
    expect(publisher.messageIds[1]).toBe(publisher.messageIds[0]);
    expect(publisher.published).toHaveLength(1);
    // A changed event is a different batch.
    const changed = {
      events: [{ eventId: 'a', customerId: 'd', metricName: 'm' }, body.events[1]],
    };
    expect(await s.ingest({ ...request(changed), nowMs: NOW + 2_000 })).toMatchObject({
      accepted: 2,
      duplicates: 0,
    });
  });

  it('answers every event of a batch JetStream acked as a duplicate as a duplicate', async () => {
    const body = {
      events: [
        { eventId: 'a', customerId: 'c', metricName: 'm' },
        { eventId: 'b', customerId: 'c', metricName: 'm' },
      ],
    };
    const fresh = new FixedAckPublisher(false);
    expect(await service(fresh).ingest(request(body))).toEqual({
      accepted: 2,
      duplicates: 0,
      events: [
        { index: 0, id: 'a', duplicate: false },
        { index: 1, id: 'b', duplicate: false },
      ],
    });
    const again = new FixedAckPublisher(true);
    expect(await service(again).ingest(request(body))).toEqual({
      accepted: 0,
      duplicates: 2,
      events: [
        { index: 0, id: 'a', duplicate: true },
        { index: 1, id: 'b', duplicate: true },
      ],
    });
    expect([fresh.calls, again.calls]).toEqual([1, 1]);
  });

  it('maps authentication, role, media type and rate limit failures to stable codes', async () => {
    const s = service(new DedupWindowPublisher(), 2);
    const body = {
      events: [
        { customerId: 'c', metricName: 'm' },
        { customerId: 'c', metricName: 'm' },
      ],
    };
    expect((await failure(s.ingest(request(body, 'Bearer nope')))).code).toBe('UNAUTHORIZED');
    expect((await failure(s.ingest(request(body, '')))).code).toBe('UNAUTHORIZED');
    expect((await failure(s.ingest(request(body, 'Bearer k-query')))).code).toBe('FORBIDDEN');
    expect((await failure(s.ingest(request(body, 'Bearer k-ingest', 'text/csv')))).httpStatus).toBe(415);
    expect((await failure(s.ingest({ ...request(body), tenantFromSubject: 'globex' }))).code).toBe(
      'FORBIDDEN',
    );
    await s.ingest(request(body));
    const limited = await failure(s.ingest(request(body)));
    expect([limited.code, limited.httpStatus, limited.retryAfterSeconds]).toEqual(['RATE_LIMITED', 429, 1]);
  });

  it('rejects the whole batch when one event is invalid, publishing nothing', async () => {
    const publisher = new DedupWindowPublisher();
    const error = await failure(
      service(publisher).ingest(
        request({ events: [{ customerId: 'c', metricName: 'm' }, { customerId: 'c' }] }),
      ),
    );
    expect(error.httpStatus).toBe(422);
    expect(error.details).toEqual([expect.objectContaining({ index: 1, code: 'EVENT_TYPE_MISSING' })]);
    expect(publisher.published).toHaveLength(0);
  });
});
