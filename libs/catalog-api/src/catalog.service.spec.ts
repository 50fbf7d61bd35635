import { ConflictError, NotFoundError, ValidationFailedError } from '@tally/errors';
import { ApiKeysService } from './api-keys.service';
import { CatalogService } from './catalog.service';
import type { CatalogCachePort } from './ports';
import { InMemoryApiKeys, InMemoryCatalog } from './testing/in-memory-catalog';
import { decodeWrite } from './write-body';

const noCache: CatalogCachePort = {
  revision: 0,
  getTenant: () => undefined,
  listCustomers: () => [],
  listMeters: () => [],
};

async function setUp() {
  const store = new InMemoryCatalog();
  await store.putTenant({ id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' });
  await store.putTenant({ id: 'globex', name: 'Globex', timezone: 'UTC', currency: 'EUR' });
  return { store, catalog: new CatalogService(store, noCache) };
}

const customerWrite = (tenant: string, id: string, body: object, headers: Record<string, string> = {}) =>
  decodeWrite(body, headers, { tenant, hasTenantField: true, idField: 'id', id });

describe('CatalogService', () => {
  it('keeps every tenant to its own entities', async () => {
    const { catalog } = await setUp();
    await catalog.customers.put('acme', customerWrite('acme', 'c1', { name: 'A' }));
    await expect(catalog.customers.get('globex', 'c1')).rejects.toBeInstanceOf(NotFoundError);
    expect((await catalog.customers.list('globex', { limit: 10 }, {})).items).toEqual([]);
    await expect(catalog.customers.delete('globex', 'c1', {})).rejects.toBeInstanceOf(NotFoundError);
    expect((await catalog.customers.get('acme', 'c1')).value.name).toBe('A');
  });

  it('honours If-Match: * (must exist) and stale revisions', async () => {
    const { catalog } = await setUp();
    await expect(
      catalog.customers.put('acme', customerWrite('acme', 'c1', {}, { 'if-match': '*' })),
    ).rejects.toBeInstanceOf(NotFoundError);
    const created = await catalog.customers.put(
      'acme',
      customerWrite('acme', 'c1', {}, { 'if-none-match': '*' }),
    );
    await expect(
      catalog.customers.put('acme', customerWrite('acme', 'c1', {}, { 'if-none-match': '*' })),
    ).rejects.toBeInstanceOf(ConflictError);
    const updated = await catalog.customers.put(
      'acme',
      customerWrite('acme', 'c1', { name: 'B' }, { 'if-match': `"${created.revision}"` }),
    );
    await expect(
      catalog.customers.put(
        'acme',
        customerWrite('acme', 'c1', { name: 'C' }, { 'if-match': `"${created.revision}"` }),
      ),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      catalog.customers.delete('acme', 'c1', { expectedRevision: created.revision }),
    ).rejects.toBeInstanceOf(ConflictError);
    await catalog.customers.delete('acme', 'c1', { expectedRevision: updated.revision });
  });

  it('lists meter versions and reads old ones', async () => {
    const { catalog } = await setUp();
    const meter = { name: 'Plays', eventTypes: ['play'], aggregation: 'count' };
    const write = (body: object) =>
      decodeWrite(body, {}, { tenant: 'acme', hasTenantField: true, idField: 'key', id: 'plays' });
    await catalog.meters.put('acme', write(meter));
    await catalog.meters.put('acme', write({ ...meter, name: 'Songs played' }));
    expect(await catalog.meterVersions('acme', 'plays')).toEqual({
      key: 'plays',
      current: 2,
      versions: [1, 2],
    });
    expect((await catalog.meterVersion('acme', 'plays', '1')).name).toBe('Plays');
    await expect(catalog.meterVersion('acme', 'plays', '3')).rejects.toBeInstanceOf(NotFoundError);
    await expect(catalog.meterVersion('acme', 'plays', 'x')).rejects.toBeInstanceOf(ValidationFailedError);
    await expect(catalog.meterVersions('globex', 'plays')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('ApiKeysService', () => {
  it("creates keys, lists them without the key, and never revokes another tenant's", async () => {
    const keys = new ApiKeysService(new InMemoryApiKeys());
    const created = await keys.create('acme', { role: 'query' });
    expect(created).toMatchObject({ tenant: 'acme', role: 'query', name: 'query key', revoked: false });
    expect(created.key).toMatch(/^tally_query_/);
    expect(keys.list('acme').items).toEqual([
      {
        id: created.id,
        tenant: 'acme',
        role: 'query',
        name: 'query key',
        createdAt: created.createdAt,
        revoked: false,
      },
    ]);
    await expect(keys.revoke('globex', created.id)).rejects.toBeInstanceOf(NotFoundError);
    await keys.revoke('acme', created.id);
    expect(keys.list('acme').items[0].revoked).toBe(true);
  });

  it('names every invalid field of a new key', async () => {
    const keys = new ApiKeysService(new InMemoryApiKeys());
    await expect(keys.create('acme', { role: 'root', name: '', tenant: 'globex' })).rejects.toMatchObject({
      details: [
        expect.objectContaining({ field: 'role', code: 'INVALID_VALUE' }),
        expect.objectContaining({ field: 'name', code: 'TOO_SHORT' }),
        expect.objectContaining({ field: 'tenant', code: 'UNKNOWN_FIELD' }),
      ],
    });
  });
});
