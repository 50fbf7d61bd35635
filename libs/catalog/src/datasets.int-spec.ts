/**
 * Dataset declarations (Analytics Engine compatibility) in the catalog bucket on the real NATS:
 * CRUD, the create-if-absent used by the gateway on a dataset's first data point, and the cache.
 */
import { ConflictError, NotFoundError, ValidationFailedError } from '@tally/errors';
import { connectNats, natsNames, type NatsConnection, type NatsNames } from '@tally/nats';
import { randomPrefix, testNatsUrl, waitForMeasured, testNatsAuth } from '@tally/testing';
import { CatalogProjection, type CatalogChange } from './catalog-projection';
import { CatalogStore } from './catalog-store';
import { deleteCatalogBuckets } from './kv';

describe('datasets in the catalog (real NATS)', () => {
  let nc: NatsConnection;
  let names: NatsNames;
  let store: CatalogStore;

  beforeAll(async () => {
    nc = await connectNats(testNatsUrl(), 'datasets.int-spec', testNatsAuth());
  });
  afterAll(async () => {
    await nc?.close();
  });
  beforeEach(async () => {
    names = natsNames(randomPrefix());
    store = await CatalogStore.open(nc, names);
  });
  afterEach(async () => {
    await deleteCatalogBuckets(nc, names);
  });

  it('declares, lists, re-declares with revisions and deletes datasets of an existing tenant', async () => {
    const missingTenant = store.putDataset({ tenant: 'acme', name: 'calls', kind: 'analytics' });
    await expect(missingTenant).rejects.toBeInstanceOf(NotFoundError);
    await store.putTenant({ id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' });

    const created = await store.putDataset({ tenant: 'acme', name: 'calls', kind: 'analytics' });
    await store.putDataset({ tenant: 'acme', name: 'invoices', kind: 'billing' });
    expect((await store.listDatasets('acme')).map((d) => `${d.value.name}:${d.value.kind}`)).toEqual([
      'calls:analytics',
      'invoices:billing',
    ]);
    await expect(
      store.putDataset({ tenant: 'acme', name: 'calls', kind: 'billing' }, { expectedRevision: 0 }),
    ).rejects.toBeInstanceOf(ConflictError);
    const sampled = await store.putDataset(
      {
        tenant: 'acme',
        name: 'calls',
        kind: 'analytics',
        sampling: { budgetPerIndexPerWindow: 10, windowMs: 500 },
      },
      { expectedRevision: created.revision },
    );
    expect((await store.getDataset('acme', 'calls'))?.value.sampling).toEqual({
      budgetPerIndexPerWindow: 10,
      windowMs: 500,
    });
    await expect(store.deleteTenant('acme')).rejects.toMatchObject({ code: 'TENANT_NOT_EMPTY' });
    await store.deleteDataset('acme', 'calls', { expectedRevision: sampled.revision });
    await store.deleteDataset('acme', 'invoices');
    await expect(store.deleteDataset('acme', 'calls')).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.getDataset('acme', '../x')).toBeUndefined();
    await expect(
      store.putDataset({
        tenant: 'acme',
        name: 'x',
        kind: 'billing',
        sampling: { budgetPerIndexPerWindow: 1, windowMs: 100 },
      }),
    ).rejects.toBeInstanceOf(ValidationFailedError);
  });

  it('ensureDataset creates once and never overwrites a declaration, even when racing', async () => {
    await store.putTenant({ id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' });
    await store.putDataset({ tenant: 'acme', name: 'bills', kind: 'billing' });
    const kept = await store.ensureDataset({ tenant: 'acme', name: 'bills', kind: 'analytics' });
    expect(kept.value.kind).toBe('billing');

    const racers = await Promise.all(
      Array.from({ length: 8 }, () =>
        store.ensureDataset({ tenant: 'acme', name: 'fresh', kind: 'analytics' }),
      ),
    );
    expect(new Set(racers.map((r) => r.revision)).size).toBe(1);
    expect(racers[0].value).toEqual({ tenant: 'acme', name: 'fresh', kind: 'analytics' });
  });

  it('the cache follows declarations (time logged)', async () => {
    await store.putTenant({ id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' });
    await store.putDataset({ tenant: 'acme', name: 'before', kind: 'billing' });
    const cache = await CatalogProjection.open(nc, names);
    try {
      expect(cache.getDataset('acme', 'before')?.kind).toBe('billing');
      const changes: CatalogChange[] = [];
      cache.onChange((c) => changes.push(c));
      await store.ensureDataset({ tenant: 'acme', name: 'after', kind: 'analytics' });
      await store.deleteDataset('acme', 'before');
      await waitForMeasured(
        'dataset changes in the cache',
        async () => cache.getDataset('acme', 'after') && !cache.getDataset('acme', 'before'),
      );
      expect(cache.listDatasets('acme').map((d) => d.name)).toEqual(['after']);
      expect(changes.map((c) => `${c.kind}:${c.id}:${c.value ? 'put' : 'del'}`)).toEqual([
        'dataset:after:put',
        'dataset:before:del',
      ]);
    } finally {
      await cache.close();
    }
  });
});
