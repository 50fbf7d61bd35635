import { TallyError } from '@tally/errors';
import type { IngestBatchMessage } from '../batch-message';
import type { EventPublisher, PublishAck } from './event-publisher';
import { IngestService, type Role } from './ingest.service';

class RecordingPublisher implements EventPublisher {
  readonly published: IngestBatchMessage[] = [];
  seen = new Set<string>();
  async publish(batch: IngestBatchMessage): Promise<PublishAck> {
    const id = JSON.stringify(batch.events.map((e) => e.id));
    const duplicate = this.seen.has(id);
    this.seen.add(id);
    if (!duplicate) this.published.push(batch);
    return { duplicate, seq: this.published.length };
  }
}

const keys: Record<string, { tenant: string; role: Role }> = {
  'k-ingest': { tenant: 'acme', role: 'ingest' },
  'k-query': { tenant: 'acme', role: 'query' },
};

function service(publisher = new RecordingPublisher(), rateLimitPerSecond = 1_000) {
  return new IngestService(
    { resolve: (k) => keys[k] },
    { limits: () => ({ latenessLimitDays: 35, rateLimitPerSecond }) },
    publisher,
    { maxBatch: 1000, maxFutureMs: 300_000, billingrailsCustomerProperty: 'billingrails_account_id', defaultLimits: { latenessLimitDays: 35, rateLimitPerSecond } },
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
    const publisher = new RecordingPublisher();
    const result = await service(publisher).ingest(
      request({ events: [{ eventId: 'a', customerId: 'c', metricName: 'm' }, { eventId: 'a', customerId: 'c', metricName: 'm' }] }),
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

  it('reports a re-sent request as duplicates', async () => {
    const s = service();
    const body = { events: [{ eventId: 'a', customerId: 'c', metricName: 'm' }] };
    await s.ingest(request(body));
    expect(await s.ingest(request(body))).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it('maps authentication, role, media type and rate limit failures to stable codes', async () => {
    const s = service(new RecordingPublisher(), 2);
    const body = { events: [{ customerId: 'c', metricName: 'm' }, { customerId: 'c', metricName: 'm' }] };
    expect((await failure(s.ingest(request(body, 'Bearer nope')))).code).toBe('UNAUTHORIZED');
    expect((await failure(s.ingest(request(body, '')))).code).toBe('UNAUTHORIZED');
    expect((await failure(s.ingest(request(body, 'Bearer k-query')))).code).toBe('FORBIDDEN');
    expect((await failure(s.ingest(request(body, 'Bearer k-ingest', 'text/csv')))).httpStatus).toBe(415);
    expect((await failure(s.ingest({ ...request(body), tenantFromSubject: 'globex' }))).code).toBe('FORBIDDEN');
    await s.ingest(request(body));
    const limited = await failure(s.ingest(request(body)));
    expect([limited.code, limited.httpStatus, limited.retryAfterSeconds]).toEqual(['RATE_LIMITED', 429, 1]);
  });

  it('rejects the whole batch when one event is invalid, publishing nothing', async () => {
    const publisher = new RecordingPublisher();
    const error = await failure(
      service(publisher).ingest(request({ events: [{ customerId: 'c', metricName: 'm' }, { customerId: 'c' }] })),
    );
    expect(error.httpStatus).toBe(422);
    expect(error.details).toEqual([expect.objectContaining({ index: 1, code: 'EVENT_TYPE_MISSING' })]);
    expect(publisher.published).toHaveLength(0);
  });
});
