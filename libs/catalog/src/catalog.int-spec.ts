/**
 * CatalogStore, CatalogProjection and ApiKeyStore on the real NATS (NATS_URL, default 127.0.0.1:4322).
 * Each test gets its own prefix, hence its own buckets, deleted afterwards.
 */
import { Kvm } from '@nats-io/kv';
import { ConflictError, NotFoundError, ValidationFailedError } from '@tally/errors';
import { connectNats, type NatsConnection, type NatsNames, natsNames } from '@tally/nats';
import { randomPrefix, testNatsUrl, waitForMeasured, testNatsAuth } from '@tally/testing';
import { ApiKeyStore, apiKeyId } from './api-key-store';
import { CatalogProjection, type CatalogChange } from './catalog-projection';
import { CatalogStore } from './catalog-store';
import type { TenantInput } from './entities';
import { CATALOG_HISTORY, deleteCatalogBuckets } from './kv';

const acme: TenantInput = { id: 'acme', name: 'Acme', timezone: 'America/New_York', currency: 'USD' };
const calls = {
  tenant: 'acme',
  key: 'calls',
  name: 'Calls',
  eventTypes: ['call'],
  aggregation: 'count' as const,
  filters: [{ value: 'USA', operator: 'in' as const, property: ['country'] }],
};

async function expectError<T extends Error>(
  p: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<T> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    return e as T;
  }
  throw new Error(`expected ${type.name}`);
}

describe('catalog on NATS', () => {
  let nc: NatsConnection;
  let other: NatsConnection;
  let names: NatsNames;
  let store: CatalogStore;

  beforeAll(async () => {
    nc = await connectNats(testNatsUrl(), 'catalog.int-spec', testNatsAuth());
    other = await connectNats(testNatsUrl(), 'catalog.int-spec.other', testNatsAuth());
  });
  afterAll(async () => {
    await nc?.close();
    await other?.close();
  });
  beforeEach(async () => {
    names = natsNames(randomPrefix());
    store = await CatalogStore.open(nc, names, { now: () => new Date('2026-01-02T03:04:05.000Z') });
  });
  afterEach(async () => {
    await deleteCatalogBuckets(nc, names);
  });

  it('creates the bucket with history', async () => {
    const kv = await new Kvm(nc).open(names.catalogBucket);
    expect((await kv.status()).history).toBeGreaterThanOrEqual(CATALOG_HISTORY);
    expect(CATALOG_HISTORY).toBeGreaterThanOrEqual(5);
  });

  describe('optimistic concurrency', () => {
    it('creates, reads, updates with the current revision, refuses a stale one (409 REVISION_CONFLICT)', async () => {
      const created = await store.putTenant(acme, { expectedRevision: 0 });
      expect(created.value.latenessLimitDays).toBe(35);
      expect(await store.getTenant('acme')).toEqual(created);

      const again = await expectError(store.putTenant(acme, { expectedRevision: 0 }), ConflictError);
      expect(again.code).toBe('REVISION_CONFLICT');
      expect(again.httpStatus).toBe(409);

      const updated = await store.putTenant(
        { ...acme, name: 'Acme Inc' },
        { expectedRevision: created.revision },
      );
      expect(updated.revision).toBeGreaterThan(created.revision);

      const stale = await expectError(
        store.putTenant({ ...acme, name: 'Lost update' }, { expectedRevision: created.revision }),
        ConflictError,
      );
      expect(stale.code).toBe('REVISION_CONFLICT');
      expect((await store.getTenant('acme'))!.value.name).toBe('Acme Inc');

      // Without expectedRevision: last write wins.
      await store.putTenant({ ...acme, name: 'Acme 3' });
      expect((await store.getTenant('acme'))!.value.name).toBe('Acme 3');
    });

    it('deletes with and without a revision', async () => {
      const t = await store.putTenant(acme);
      await expectError(
        store.deleteTenant('acme', { expectedRevision: t.revision - 1 || 999 }),
        ConflictError,
      );
      await store.deleteTenant('acme', { expectedRevision: t.revision });
      expect(await store.getTenant('acme')).toBeUndefined();
      await expectError(store.deleteTenant('acme'), NotFoundError);
      // Created again after a delete.
      await store.putTenant(acme, { expectedRevision: 0 });
      expect(await store.listTenants()).toHaveLength(1);
    });
  });

  it('validates with field paths and checks references', async () => {
    const bad = await expectError(
      store.putTenant({ ...acme, timezone: 'Mars/Base', currency: 'usd' }),
      ValidationFailedError,
    );
    expect(bad.details.map((d) => d.field)).toEqual(['timezone', 'currency']);
    await expectError(store.putCustomer({ tenant: 'nope', id: 'c1' }), NotFoundError);
  });

  it('customers: any external id, createdAt kept, listed per tenant', async () => {
    await store.putTenant(acme);
    await store.putTenant({ ...acme, id: 'acme2' });
    const ids = ['c1', 'a.b/c d', 'ü😀', '*', '>'];
    for (const id of ids) await store.putCustomer({ tenant: 'acme', id, metadata: { plan: 'pro' } });
    await store.putCustomer({ tenant: 'acme2', id: 'c1' });
    const c = await store.getCustomer('acme', 'a.b/c d');
    expect(c!.value).toEqual({
      tenant: 'acme',
      id: 'a.b/c d',
      metadata: { plan: 'pro' },
      createdAt: '2026-01-02T03:04:05.000Z',
    });
    expect((await store.listCustomers('acme')).map((x) => x.value.id).sort()).toEqual([...ids].sort());
    expect(await store.listCustomers('acme2')).toHaveLength(1);

    const later = await CatalogStore.open(nc, names, { now: () => new Date('2030-01-01T00:00:00.000Z') });
    const renamed = await later.putCustomer({ tenant: 'acme', id: 'c1', name: 'Renamed' });
    expect(renamed.value.createdAt).toBe('2026-01-02T03:04:05.000Z');

    await store.deleteCustomer('acme', '*');
    expect(await store.getCustomer('acme', '*')).toBeUndefined();
    const notEmpty = await expectError(store.deleteTenant('acme'), ConflictError);
    expect(notEmpty.code).toBe('TENANT_NOT_EMPTY');
  });

  it('meters: versioned, old versions readable, unchanged puts do not bump', async () => {
    await store.putTenant(acme);
    const v1 = await store.putMeter(calls, { expectedRevision: 0 });
    expect(v1.value.version).toBe(1);
    expect(await store.putMeter(calls)).toEqual(v1); // same definition: nothing written

    const v2 = await store.putMeter(
      { ...calls, aggregation: 'sum', valueProperty: 'duration' },
      { expectedRevision: v1.revision },
    );
    expect(v2.value.version).toBe(2);
    await expectError(
      store.putMeter({ ...calls, name: 'x' }, { expectedRevision: v1.revision }),
      ConflictError,
    );

    expect((await store.getMeterVersion('acme', 'calls', 1))!.aggregation).toBe('count');
    expect((await store.getMeterVersion('acme', 'calls', 2))!.aggregation).toBe('sum');
    expect(await store.getMeterVersion('acme', 'calls', 3)).toBeUndefined();

    await store.deleteMeter('acme', 'calls');
    expect(await store.getMeter('acme', 'calls')).toBeUndefined();
    expect((await store.getMeterVersion('acme', 'calls', 2))!.valueProperty).toBe('duration');
    const v3 = await store.putMeter(calls);
    expect(v3.value.version).toBe(3); // numbering continues after a delete
    expect(await store.listMeterVersions('acme', 'calls')).toEqual([1, 2, 3]);
    expect((await store.listMeters('acme')).map((m) => m.value.key)).toEqual(['calls']);
  });

  it('meters: concurrent writers without a revision each get their own version', async () => {
    await store.putTenant(acme);
    await store.putMeter(calls);
    const writers = await Promise.all([CatalogStore.open(nc, names), CatalogStore.open(other, names)]);
    const results = await Promise.all(writers.map((w, i) => w.putMeter({ ...calls, name: `writer ${i}` })));
    expect(results.map((r) => r.value.version).sort()).toEqual([2, 3]);
    for (const r of results)
      expect((await store.getMeterVersion('acme', 'calls', r.value.version))!.name).toBe(r.value.name);
  });

  it('plans, subscriptions, alert rules: validated and referenced', async () => {
    await store.putTenant(acme);
    await store.putMeter({
      ...calls,
      profiles: [{ key: 'usa', name: 'USA', aggregation: 'count', filters: [] }],
    });
    const charge = { id: 'c', name: 'Calls', kind: 'per_unit', meter: 'calls:usa', unitPrice: '0.01' };
    const unknown = await expectError(
      store.putPlan({
        tenant: 'acme',
        id: 'pro',
        name: 'Pro',
        currency: 'USD',
        charges: [charge, { ...charge, id: 'd', meter: 'sms' }],
      }),
      ValidationFailedError,
    );
    expect(unknown.details).toEqual([
      expect.objectContaining({ field: 'charges[1].meter', code: 'UNKNOWN_METER' }),
    ]);
    const plan = await store.putPlan({
      tenant: 'acme',
      id: 'pro',
      name: 'Pro',
      currency: 'USD',
      charges: [charge],
      minimumCommitment: '10',
    });
    expect((await store.getPlan('acme', 'pro'))!.value).toEqual(plan.value);

    const subErr = await expectError(
      store.putSubscription({ tenant: 'acme', id: 's1', customer: 'c1', plan: 'pro', start: '2026-03-01' }),
      ValidationFailedError,
    );
    expect(subErr.details.map((d) => d.code)).toEqual(['UNKNOWN_CUSTOMER']);
    await store.putCustomer({ tenant: 'acme', id: 'c1' });
    await store.putSubscription({
      tenant: 'acme',
      id: 's1',
      customer: 'c1',
      plan: 'pro',
      start: '2026-03-01',
      billingAnchorDay: 1,
    });
    expect(await store.listSubscriptions('acme', { customer: 'c1' })).toHaveLength(1);
    expect(await store.listSubscriptions('acme', { customer: 'c2' })).toHaveLength(0);

    const rule = {
      tenant: 'acme',
      id: 'r1',
      meter: 'calls',
      profile: 'usa',
      customer: 'c1',
      threshold: { kind: 'absolute' as const, value: '100' },
    };
    await store.putAlertRule(rule, { expectedRevision: 0 });
    const ruleErr = await expectError(
      store.putAlertRule({ ...rule, id: 'r2', profile: 'eu' }),
      ValidationFailedError,
    );
    expect(ruleErr.details.map((d) => `${d.field}:${d.code}`)).toEqual(['profile:UNKNOWN_PROFILE']);
    expect(await store.listAlertRules('acme')).toHaveLength(1);
    await store.deleteAlertRule('acme', 'r1');
    await store.deleteSubscription('acme', 's1');
    await store.deletePlan('acme', 'pro');
    expect(await store.listPlans('acme')).toEqual([]);
  });

  describe('CatalogProjection', () => {
    it('loads the snapshot, then sees changes made on another connection (time logged)', async () => {
      await store.putTenant(acme);
      await store.putCustomer({ tenant: 'acme', id: 'c1' });
      const cache = await CatalogProjection.open(nc, names);
      try {
        await cache.ready();
        expect(cache.getTenant('acme')!.name).toBe('Acme');
        expect(cache.hasCustomer('acme', 'c1')).toBe(true);

        const changes: CatalogChange[] = [];
        cache.onChange((c) => changes.push(c));
        const remote = await CatalogStore.open(other, names);
        await remote.putTenant({ ...acme, rateLimitPerSecond: 5 });
        await waitForMeasured(
          "tenant change in the other connection's cache",
          async () => cache.getTenant('acme')?.rateLimitPerSecond === 5,
        );

        await remote.putCustomer({ tenant: 'acme', id: 'ü.x' });
        await remote.putMeter(calls);
        await remote.deleteCustomer('acme', 'c1');
        await waitForMeasured(
          'customer and meter changes in the cache',
          async () => !cache.hasCustomer('acme', 'c1') && cache.getMeter('acme', 'calls'),
        );
        expect(cache.getCustomer('acme', 'ü.x')!.id).toBe('ü.x');
        expect(cache.listMeters('acme').map((m) => m.version)).toEqual([1]);
        expect(changes.map((c) => `${c.kind}:${c.id}:${c.value ? 'put' : 'del'}`)).toEqual([
          'tenant:acme:put',
          'customer:ü.x:put',
          'meter:calls:put',
          'customer:c1:del',
        ]);
      } finally {
        await cache.close();
      }
    });

    it('is ready at once on an empty bucket', async () => {
      const cache = await CatalogProjection.open(nc, names);
      await cache.ready();
      expect(cache.listTenants()).toEqual([]);
      await cache.close();
    });
  });

  describe('ApiKeyStore', () => {
    it('creates, resolves synchronously, revokes; another instance follows', async () => {
      const keys = await ApiKeyStore.open(nc, names);
      const remote = await ApiKeyStore.open(other, names);
      try {
        await Promise.all([keys.ready(), remote.ready()]);
        const { key, id, record } = await keys.create('acme', 'ingest', 'CI');
        expect(key).toMatch(/^tally_ingest_[0-9A-Za-z]{32}$/);
        expect(record).toEqual({ tenant: 'acme', role: 'ingest', name: 'CI', createdAt: expect.any(String) });
        expect(keys.resolve(key)).toEqual({ tenant: 'acme', role: 'ingest', keyId: id });
        expect(keys.resolve(key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a'))).toBeUndefined();
        expect(keys.resolve('nonsense')).toBeUndefined();

        await waitForMeasured('key on the other instance', async () => remote.resolve(key));
        await remote.revoke(key);
        expect(remote.resolve(key)).toBeUndefined();
        await waitForMeasured(
          'revocation on the other instance',
          async () => keys.resolve(key) === undefined,
        );
        await expectError(keys.revoke('tally_admin_' + 'x'.repeat(32)), NotFoundError);
        expect(keys.list('acme')).toEqual([{ id, record: { ...record, revoked: true } }]);

        // A store opened later loads existing keys before ready() resolves.
        const { key: second } = await keys.create('acme', 'admin', 'ops');
        const late = await ApiKeyStore.open(other, names);
        await late.ready();
        expect(late.resolve(second)).toMatchObject({ tenant: 'acme', role: 'admin' });
        await late.close();
      } finally {
        await keys.close();
        await remote.close();
      }
    });

    it('stores only the hash: the raw key appears nowhere in the bucket', async () => {
      const keys = await ApiKeyStore.open(nc, names);
      const { key } = await keys.create('acme', 'query', 'dashboard');
      await keys.revoke(key);
      await keys.close();
      const kv = await new Kvm(nc).open(names.apiKeysBucket);
      const secret = key.slice('tally_query_'.length);
      const stored: string[] = [];
      for await (const e of await kv.history()) stored.push(e.key, e.string());
      expect(stored.length).toBeGreaterThan(0);
      expect(stored).toContain(apiKeyId(key));
      for (const s of stored) {
        expect(s).not.toContain(key);
        expect(s).not.toContain(secret);
      }
    });
  });
});
