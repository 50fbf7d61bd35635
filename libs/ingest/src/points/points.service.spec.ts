import type { Dataset } from '@tally/catalog';
import { TallyError } from '@tally/errors';
import { seededRandom } from '@tally/analytics-engine';
import type { PublishAck } from '../gateway/event-publisher';
import { IngestService, type Role } from '../gateway/ingest.service';
import { CatalogDatasetRegistry } from './dataset-registry';
import { DatasetSamplers } from './dataset-samplers';
import type { PointsBatchMessage } from './points-message';
import type { PointsPublisher } from './points-publisher';
import { NATS_POINTS_ROUTE } from './points.controller';
import { PointsService, shareOf } from './points.service';

class RecordingPublisher implements PointsPublisher {
  readonly published: PointsBatchMessage[] = [];
  private readonly seen = new Set<string>();
  async publish(message: PointsBatchMessage, requestId: string): Promise<PublishAck> {
    const duplicate = this.seen.has(requestId);
    this.seen.add(requestId);
    if (!duplicate) this.published.push(message);
    return { duplicate, seq: this.published.length };
  }
}

class MemoryDatasets {
  readonly declared = new Map<string, Dataset>();
  creations = 0;
  getDataset(tenant: string, name: string) {
    return this.declared.get(`${tenant}/${name}`);
  }
  async ensureDataset(input: Dataset) {
    this.creations++;
    const existing = this.declared.get(`${input.tenant}/${input.name}`);
    if (existing) return { value: existing };
    // Like the real cache, this one learns about the creation a little later (through its watch).
    setTimeout(() => this.declared.set(`${input.tenant}/${input.name}`, input), 5);
    return { value: input };
  }
}

const keys: Record<string, { tenant: string; role: Role }> = {
  'k-ingest': { tenant: 'acme', role: 'ingest' },
  'k-query': { tenant: 'acme', role: 'query' },
};
const NOW = Date.UTC(2026, 10, 21, 12);
const limits = { latenessLimitDays: 35, rateLimitPerSecond: 1_000 };

function setup(rateLimitPerSecond = 1_000, gateways?: () => number) {
  const publisher = new RecordingPublisher();
  const catalog = new MemoryDatasets();
  const auth = new IngestService(
    { resolve: (k) => keys[k] },
    { limits: () => undefined },
    { publish: async () => ({ duplicate: false, seq: 0 }) },
    {
      maxBatch: 1000,
      maxFutureMs: 300_000,
      billingrailsCustomerProperty: 'x',
      defaultLimits: limits,
    },
  );
  const service = new PointsService(
    auth,
    { limits: () => ({ latenessLimitDays: 35, rateLimitPerSecond }) },
    new CatalogDatasetRegistry(catalog, catalog),
    publisher,
    {
      maxFutureMs: 300_000,
      defaultLimits: limits,
      defaultSampling: { budgetPerIndexPerWindow: 5, windowMs: 1000 },
      gateways,
    },
    undefined,
    new DatasetSamplers(seededRandom(7)),
  );
  return { service, publisher, catalog };
}

const request = (
  body: unknown,
  dataset = 'api_calls',
  authorization = 'Bearer k-ingest',
  contentType = 'application/json',
) => ({
  authorization,
  contentType,
  dataset,
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

describe('PointsService', () => {
  it('publishes one message per request for the key tenant, creating an undeclared dataset as analytics', async () => {
    const { service, publisher, catalog } = setup();
    const result = await service.write(
      request({
        points: [
          { id: 'p1', indexes: ['cus_1'], blobs: ['/a'], doubles: [1.5] },
          { id: 'p2', indexes: ['cus_1'] },
        ],
      }),
    );
    expect(result).toEqual({ accepted: 2, duplicates: 0, kept: 2 });
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]).toMatchObject({
      v: 1,
      tenant: 'acme',
      dataset: 'api_calls',
      receivedAt: NOW,
    });
    expect(publisher.published[0].points[0]).toEqual({
      id: 'p1',
      ts: NOW,
      index1: 'cus_1',
      blobs: ['/a'],
      doubles: [1.5],
      si: 1,
    });
    expect(catalog.creations).toBe(1);
    // A second request before the cache has it does not create it again.
    await service.write(request([{ id: 'p3' }]));
    expect(catalog.creations).toBe(1);
  });

  it('answers a re-sent request as duplicates, and an id repeated within a request counts once', async () => {
    const { service, publisher } = setup();
    const body = {
      points: [{ id: 'a', timestamp: NOW - 1000 }, { id: 'a', timestamp: NOW - 1000 }, { id: 'b' }],
    };
    expect(await service.write(request(body))).toEqual({ accepted: 2, duplicates: 1, kept: 2 });
    expect(await service.write(request(body))).toEqual({ accepted: 0, duplicates: 3, kept: 0 });
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0].points.map((p) => p.id)).toEqual(['a', 'b']);
  });

  it('recognises a retried request by its point ids even without timestamps; id-less points are always new', async () => {
    const { service } = setup();
    const withIds = [{ id: 'r1', indexes: ['c'] }, { id: 'r2' }];
    expect(await service.write(request(withIds))).toMatchObject({ accepted: 2 });
    expect(await service.write({ ...request(withIds), nowMs: NOW + 5_000 })).toMatchObject({
      accepted: 0,
      duplicates: 2,
    });
    const anonymous = [{ indexes: ['c'] }];
    for (const later of [6_000, 7_000]) {
      expect(await service.write({ ...request(anonymous), nowMs: NOW + later })).toMatchObject({
        accepted: 1,
        duplicates: 0,
      });
    }
  });

  it('samples analytics datasets equitably and never billing datasets', async () => {
    const { service, publisher, catalog } = setup(10_000);
    catalog.declared.set('acme/bills', { tenant: 'acme', name: 'bills', kind: 'billing' });
    const loud = Array.from({ length: 200 }, (_, i) => ({ id: `l${i}`, indexes: ['loud'] }));
    const quiet = Array.from({ length: 3 }, (_, i) => ({ id: `q${i}`, indexes: ['quiet'] }));

    // Late in a window, so the sampler projects the index's rate from most of the window.
    const analytics = await service.write({ ...request([...loud, ...quiet]), nowMs: NOW + 900 });
    expect(analytics.accepted).toBe(203);
    expect(analytics.kept).toBeLessThan(203);
    const rows = publisher.published[0].points;
    expect(rows.filter((p) => p.index1 === 'quiet').map((p) => p.si)).toEqual([1, 1, 1]);
    const loudRows = rows.filter((p) => p.index1 === 'loud');
    expect(loudRows.slice(0, 5).map((p) => p.si)).toEqual([1, 1, 1, 1, 1]);
    expect(loudRows.some((p) => p.si > 1)).toBe(true);

    expect(await service.write(request([...loud, ...quiet], 'bills'))).toEqual({
      accepted: 203,
      duplicates: 0,
      kept: 203,
    });
    expect(publisher.published[1].points.every((p) => p.si === 1)).toBe(true);
  });

  it('follows a dataset declared with its own sampling budget', async () => {
    const { service, publisher, catalog } = setup();
    catalog.declared.set('acme/wide', {
      tenant: 'acme',
      name: 'wide',
      kind: 'analytics',
      sampling: { budgetPerIndexPerWindow: 1_000, windowMs: 1_000 },
    });
    const points = Array.from({ length: 250 }, (_, i) => ({ id: `w${i}`, indexes: ['loud'] }));
    expect(await service.write(request(points, 'wide'))).toMatchObject({ kept: 250 });
    expect(publisher.published[0].points.every((p) => p.si === 1)).toBe(true);
  });

  it('splits a sampling budget between the live gateways (each keeps its share, together at most the budget)', async () => {
    let live = 10;
    const { service, publisher, catalog } = setup(10_000, () => live);
    catalog.declared.set('acme/wide', {
      tenant: 'acme',
      name: 'wide',
      kind: 'analytics',
      sampling: { budgetPerIndexPerWindow: 1_000, windowMs: 1_000 },
    });
    const points = Array.from({ length: 250 }, (_, i) => ({ id: `w${i}`, indexes: ['loud'] }));
    // One of ten gateways: a budget of 100 for this window, so 250 points are sampled.
    const shared = await service.write(request(points, 'wide'));
    expect(shared.kept).toBeLessThan(250);
    expect(publisher.published[0].points.some((p) => p.si > 1)).toBe(true);
    // Alone again: the whole budget (the sampler starts afresh with the new share).
    live = 1;
    expect(await service.write({ ...request(points.map((p) => ({ ...p, id: `a${p.id}` })), 'wide'), nowMs: NOW + 1_000 })).toMatchObject({ kept: 250 });
  });

  it('shareOf: budget / gateways, at least one row', () => {
    const settings = { budgetPerIndexPerWindow: 1_000, windowMs: 1_000 };
    expect(shareOf(settings, 1)).toBe(settings);
    expect(shareOf(settings, 3)).toEqual({ budgetPerIndexPerWindow: 333, windowMs: 1_000 });
    expect(shareOf(settings, 5_000)).toEqual({ budgetPerIndexPerWindow: 1, windowMs: 1_000 });
  });

  it('maps authentication, role, media type, tenant and rate limit failures to stable codes', async () => {
    const { service } = setup(3);
    const body = [{ id: '1' }, { id: '2' }];
    expect((await failure(service.write(request(body, 'x', 'Bearer nope')))).code).toBe('UNAUTHORIZED');
    expect((await failure(service.write(request(body, 'x', 'Bearer k-query')))).code).toBe('FORBIDDEN');
    expect(
      (await failure(service.write(request(body, 'x', 'Bearer k-ingest', 'text/plain')))).httpStatus,
    ).toBe(415);
    expect((await failure(service.write({ ...request(body), tenantFromSubject: 'globex' }))).code).toBe(
      'FORBIDDEN',
    );
    await service.write(request(body));
    const limited = await failure(service.write(request(body)));
    expect([limited.code, limited.httpStatus, limited.retryAfterSeconds]).toEqual(['RATE_LIMITED', 429, 1]);
  });

  it('rejects the whole request with every issue and its index, publishing nothing and creating nothing', async () => {
    const { service, publisher, catalog } = setup();
    const error = await failure(
      service.write(
        request({ points: [{ id: 'ok' }, { indexes: ['a', 'b'] }, { doubles: [1, 'x'] }] }, 'bad-name'),
      ),
    );
    expect(error.httpStatus).toBe(422);
    expect(error.details.map((d) => `${d.index ?? '-'}:${d.field}:${d.code}`)).toEqual([
      '-:dataset:DATASET_INVALID',
      '1:indexes:TOO_MANY_INDEXES',
      '2:doubles[1]:DOUBLE_INVALID',
    ]);
    expect(
      (await failure(service.write(request(Array.from({ length: 251 }, () => ({})))))).details[0].code,
    ).toBe('BATCH_TOO_LARGE');
    expect(publisher.published).toHaveLength(0);
    expect(catalog.creations).toBe(0);
  });

  it('reads tenant and dataset from the NATS subject', () => {
    expect(NATS_POINTS_ROUTE.parse('tally.points.acme.usage_indexed_by_customer_id')).toEqual({
      tenant: 'acme',
      dataset: 'usage_indexed_by_customer_id',
    });
  });
});
