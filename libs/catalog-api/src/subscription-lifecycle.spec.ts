import { ConflictError, NotFoundError, ValidationFailedError } from '@tally/errors';
import { SubscriptionLifecycleService } from '@tally/catalog';
import { InMemoryCatalog } from './testing/in-memory-catalog';

// 2026-10-15 10:00 in New York (14:00 UTC).
const NOW = Date.parse('2026-10-15T14:00:00.000Z');

async function setUp(now = NOW) {
  const store = new InMemoryCatalog();
  await store.putTenant({ id: 'acme', name: 'Acme', timezone: 'America/New_York', currency: 'USD' });
  await store.putCustomer({ tenant: 'acme', id: 'c1' });
  const flat = (amount: string) => [{ id: 'fee', name: 'Fee', kind: 'flat', amount }];
  await store.putPlan({
    tenant: 'acme',
    id: 'starter',
    name: 'Starter',
    currency: 'USD',
    charges: flat('31'),
  });
  await store.putPlan({ tenant: 'acme', id: 'pro', name: 'Pro', currency: 'USD', charges: flat('62') });
  await store.putPlan({ tenant: 'acme', id: 'euro', name: 'Euro', currency: 'EUR', charges: flat('10') });
  const lifecycle = new SubscriptionLifecycleService(store, () => now);
  await lifecycle.create('acme', { id: 's1', customer: 'c1', plan: 'starter', start: '2026-09-01' });
  return { store, lifecycle };
}

async function refusal(p: Promise<unknown>): Promise<{ field: string; code: string }> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationFailedError);
  const { field, code } = (error as ValidationFailedError).details[0];
  return { field, code };
}

describe('subscription lifecycle', () => {
  it('creates a subscription with a trial and records version 1', async () => {
    const { lifecycle, store } = await setUp();
    const r = await lifecycle.create('acme', { id: 's2', customer: 'c1', plan: 'pro', trialDays: 14 });
    // No start: today in the customer's zone (New York).
    expect(r.effective).toBe('2026-10-15');
    const s2 = (await store.getSubscription('acme', 's2'))?.value;
    expect(s2).toMatchObject({ start: '2026-10-15', trialEnd: '2026-10-29' });
    expect(s2?.history).toEqual([
      {
        version: 1,
        action: 'created',
        effective: '2026-10-15',
        recordedAt: '2026-10-15T14:00:00.000Z',
        plan: 'pro',
      },
    ]);
  });

  it('changes plan now: the old subscription ends today, the new one starts today on the same anchor', async () => {
    const { lifecycle, store } = await setUp();
    const r = await lifecycle.changePlan('acme', 's1', { plan: 'pro' });
    expect(r.effective).toBe('2026-10-15');
    expect(r.period).toBe('2026-10');
    expect(r.subscriptions.map((s) => [s.id, s.plan, s.start, s.end])).toEqual([
      ['s1', 'starter', '2026-09-01', '2026-10-15'],
      ['s1-v2', 'pro', '2026-10-15', undefined],
    ]);
    const next = (await store.getSubscription('acme', 's1-v2'))?.value;
    expect(next?.billingAnchorDay).toBe(1);
    expect(next?.history).toEqual([
      {
        version: 2,
        action: 'plan_changed',
        effective: '2026-10-15',
        recordedAt: '2026-10-15T14:00:00.000Z',
        plan: 'pro',
        continues: 's1',
      },
    ]);
    expect(
      (await store.getSubscription('acme', 's1'))?.value.history?.map((h) => [
        h.version,
        h.action,
        h.continuedBy,
      ]),
    ).toEqual([
      [1, 'created', undefined],
      [2, 'plan_changed', 's1-v2'],
    ]);
    // A second change continues the numbering.
    await lifecycle.changePlan('acme', 's1-v2', { plan: 'starter', effective: '2026-10-20' });
    expect((await store.getSubscription('acme', 's1-v3'))?.value).toMatchObject({
      plan: 'starter',
      start: '2026-10-20',
    });
  });

  it('changes plan or cancels at the end of the current period', async () => {
    const { lifecycle } = await setUp();
    const r = await lifecycle.changePlan('acme', 's1', { plan: 'pro', at: 'period_end' });
    expect(r.effective).toBe('2026-11-01');
    expect(r.period).toBe('2026-11');
    const c = await lifecycle.cancel('acme', 's1-v2', { at: 'period_end' });
    expect(c.effective).toBe('2026-12-01');
    expect(c.subscriptions[0]).toMatchObject({ id: 's1-v2', end: '2026-12-01' });
  });

  it('cancels now and on a backdated date', async () => {
    const { lifecycle } = await setUp();
    const r = await lifecycle.cancel('acme', 's1', { effective: '2026-09-20' });
    expect(r.subscriptions[0]).toMatchObject({ end: '2026-09-20' });
    expect(r.subscriptions[0].history?.at(-1)).toMatchObject({
      version: 2,
      action: 'canceled',
      effective: '2026-09-20',
    });
  });

  it('pauses and resumes: nothing is billed in between', async () => {
    const { lifecycle, store } = await setUp();
    await lifecycle.pause('acme', 's1', { effective: '2026-10-10' });
    expect((await store.getSubscription('acme', 's1'))?.value.end).toBe('2026-10-10');
    const r = await lifecycle.resume('acme', 's1', { effective: '2026-10-20' });
    expect(r.subscriptions.map((s) => [s.id, s.plan, s.start, s.end])).toEqual([
      ['s1', 'starter', '2026-09-01', '2026-10-10'],
      ['s1-v3', 'starter', '2026-10-20', undefined],
    ]);
    expect(r.subscriptions[1].history?.[0]).toMatchObject({ version: 3, action: 'resumed', continues: 's1' });
    // Paused with a resume date in one call.
    const p = await lifecycle.pause('acme', 's1-v3', { effective: '2026-11-05', resumeOn: '2026-12-01' });
    expect(p.subscriptions.map((s) => [s.id, s.start, s.end])).toEqual([
      ['s1-v3', '2026-10-20', '2026-11-05'],
      ['s1-v5', '2026-12-01', undefined],
    ]);
  });

  it('refuses bad input with a stable code and the failing field', async () => {
    const { lifecycle } = await setUp();
    expect(await refusal(lifecycle.changePlan('acme', 's1', { plan: 'starter' }))).toEqual({
      field: 'plan',
      code: 'SAME_PLAN',
    });
    expect(await refusal(lifecycle.changePlan('acme', 's1', { plan: 'nope' }))).toEqual({
      field: 'plan',
      code: 'UNKNOWN_PLAN',
    });
    expect(await refusal(lifecycle.changePlan('acme', 's1', { plan: 'euro' }))).toEqual({
      field: 'plan',
      code: 'MIXED_CURRENCIES',
    });
    expect(
      await refusal(lifecycle.changePlan('acme', 's1', { plan: 'pro', effective: '2026-08-01' })),
    ).toEqual({
      field: 'effective',
      code: 'EFFECTIVE_NOT_AFTER_START',
    });
    expect(
      await refusal(lifecycle.changePlan('acme', 's1', { plan: 'pro', effective: '2026-02-30' })),
    ).toEqual({
      field: 'effective',
      code: 'INVALID_DATE',
    });
    expect(
      await refusal(lifecycle.changePlan('acme', 's1', { plan: 'pro', at: 'now', effective: '2026-10-01' })),
    ).toEqual({
      field: 'at',
      code: 'AMBIGUOUS_WHEN',
    });
    expect(await refusal(lifecycle.cancel('acme', 's1', { at: 'tomorrow' }))).toMatchObject({ field: 'at' });
    expect(await refusal(lifecycle.resume('acme', 's1', {}))).toEqual({
      field: 'subscription',
      code: 'NOT_PAUSED',
    });
    expect(
      await refusal(lifecycle.pause('acme', 's1', { effective: '2026-10-10', resumeOn: '2026-10-01' })),
    ).toEqual({
      field: 'resumeOn',
      code: 'RESUME_NOT_AFTER_PAUSE',
    });
    expect(
      await refusal(lifecycle.create('acme', { id: 's9', customer: 'c1', plan: 'pro', trialDays: 0 })),
    ).toEqual({
      field: 'trialDays',
      code: 'INVALID_VALUE',
    });
    expect(await refusal(lifecycle.create('acme', { id: 's1', customer: 'c1', plan: 'pro' }))).toEqual({
      field: 'id',
      code: 'SUBSCRIPTION_EXISTS',
    });
    await lifecycle.cancel('acme', 's1', { effective: '2026-10-01' });
    expect(await refusal(lifecycle.cancel('acme', 's1', { effective: '2026-10-05' }))).toEqual({
      field: 'effective',
      code: 'SUBSCRIPTION_ENDED',
    });
    await expect(lifecycle.cancel('acme', 'nope', {})).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a repeated plan change after a crash between its two writes ends the old subscription once', async () => {
    const { lifecycle, store } = await setUp();
    // The crash: the new subscription was written, the old one's end was not.
    const put = store.putSubscription.bind(store);
    let calls = 0;
    store.putSubscription = async (input, options) => {
      if (++calls === 2) throw new Error('crash');
      return put(input, options);
    };
    await expect(
      lifecycle.changePlan('acme', 's1', { plan: 'pro', effective: '2026-10-11' }),
    ).rejects.toThrow('crash');
    expect((await store.getSubscription('acme', 's1'))?.value.end).toBeUndefined();
    const r = await lifecycle.changePlan('acme', 's1', { plan: 'pro', effective: '2026-10-11' });
    expect(r.subscriptions.map((s) => [s.id, s.start, s.end])).toEqual([
      ['s1', '2026-09-01', '2026-10-11'],
      ['s1-v2', '2026-10-11', undefined],
    ]);
  });

  it('a concurrent change of the same subscription conflicts', async () => {
    const { lifecycle, store } = await setUp();
    const get = store.getSubscription.bind(store);
    store.getSubscription = async (tenant, id) => {
      const found = await get(tenant, id);
      // Someone else writes between our read and our write.
      if (id === 's1' && found && found.value.end === undefined)
        await store.putSubscription({ ...found.value, end: '2026-12-01' });
      return found;
    };
    await expect(lifecycle.cancel('acme', 's1', { effective: '2026-10-20' })).rejects.toBeInstanceOf(
      ConflictError,
    );
  });
});
