/**
 * The subscription lifecycle over HTTP on the real query service (a child process) and NATS: create
 * with a trial, change plan on a date, cancel at the period's end, pause and resume; 422 with stable
 * codes and fields, 404, 403 for a query key. The rules themselves: libs/catalog-api's
 * subscription-lifecycle.spec.ts; their billing: libs/billing's lifecycle-proration.spec.ts and
 * apps/billing-worker's finance.int-spec.ts.
 */
import { waitFor } from '@tally/testing';
import { QueryHarness } from './query-harness';

const fee = (amount: string) => [{ id: 'fee', name: 'Monthly fee', kind: 'flat', amount }];

describe('query service: subscription lifecycle API', () => {
  const h = new QueryHarness();
  let keys: Awaited<ReturnType<QueryHarness['tenant']>>;

  beforeAll(async () => {
    await h.start();
    keys = await h.tenant('acme');
    const admin = { key: keys.admin };
    await h.request('PUT', '/v1/customers/acct_42', { ...admin, body: {} });
    await h.request('PUT', '/v1/plans/starter', {
      ...admin,
      body: { name: 'Starter', currency: 'USD', charges: fee('49') },
    });
    await h.request('PUT', '/v1/plans/pro', {
      ...admin,
      body: { name: 'Pro', currency: 'USD', proration: 'second', charges: fee('199') },
    });
    await h.request('PUT', '/v1/plans/eu', {
      ...admin,
      body: { name: 'EU', currency: 'EUR', charges: fee('10') },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('creates, changes plan, cancels at period end, pauses and resumes, each versioned and dated', async () => {
    const admin = { key: keys.admin };
    const created = await h.request('POST', '/v1/subscriptions', {
      ...admin,
      body: { id: 'sub_1', customer: 'acct_42', plan: 'starter', start: '2026-10-01', trialDays: 14 },
    });
    expect(created).toMatchObject({
      status: 201,
      body: {
        effective: '2026-10-01',
        period: '2026-10',
        subscriptions: [{ id: 'sub_1', trialEnd: '2026-10-15' }],
      },
    });
    const changed = await h.request('POST', '/v1/subscriptions/sub_1/change-plan', {
      ...admin,
      body: { plan: 'pro', effective: '2026-10-11' },
    });
    expect(changed.status).toBe(200);
    expect(
      changed.body.subscriptions.map((s: Record<string, unknown>) => [s.id, s.plan, s.start, s.end ?? null]),
    ).toEqual([
      ['sub_1', 'starter', '2026-10-01', '2026-10-11'],
      ['sub_1-v2', 'pro', '2026-10-11', null],
    ]);
    const canceled = await h.request('POST', '/v1/subscriptions/sub_1-v2/cancel', {
      ...admin,
      body: { effective: '2026-12-01' },
    });
    expect(canceled.body.subscriptions[0]).toMatchObject({ end: '2026-12-01' });
    const read = await h.request('GET', '/v1/subscriptions/sub_1-v2', { key: keys.query });
    expect(read.body.history.map((c: Record<string, unknown>) => [c.version, c.action, c.effective])).toEqual(
      [
        [2, 'plan_changed', '2026-10-11'],
        [3, 'canceled', '2026-12-01'],
      ],
    );
    const paused = await h.request('POST', '/v1/subscriptions/sub_1-v2/pause', {
      ...admin,
      body: { effective: '2026-11-10', resumeOn: '2026-11-20' },
    });
    expect(paused.body.subscriptions.map((x: Record<string, unknown>) => [x.id, x.start, x.end])).toEqual([
      ['sub_1-v2', '2026-10-11', '2026-11-10'],
      ['sub_1-v5', '2026-11-20', '2026-12-01'],
    ]);
    const late = await h.request('POST', '/v1/subscriptions/sub_1-v5/pause', {
      ...admin,
      body: { effective: '2026-12-05' },
    });
    expect([late.status, late.body.error.details]).toEqual([
      422,
      [expect.objectContaining({ field: 'effective', code: 'SUBSCRIPTION_ENDED' })],
    ]);
  });

  it('answers 422 with a stable code and the failing field, 404 for an unknown subscription, 403 for a query key', async () => {
    const admin = { key: keys.admin };
    await h.request('POST', '/v1/subscriptions', {
      ...admin,
      body: { id: 'sub_2', customer: 'acct_42', plan: 'starter', start: '2026-09-01' },
    });
    const cases: Array<[string, unknown, string, string]> = [
      ['change-plan', { plan: 'nope' }, 'plan', 'UNKNOWN_PLAN'],
      ['change-plan', { plan: 'starter' }, 'plan', 'SAME_PLAN'],
      ['change-plan', { plan: 'eu' }, 'plan', 'MIXED_CURRENCIES'],
      ['change-plan', { plan: 'pro', effective: '2026-08-01' }, 'effective', 'EFFECTIVE_NOT_AFTER_START'],
      ['change-plan', { plan: 'pro', at: 'now', effective: '2026-10-01' }, 'at', 'AMBIGUOUS_WHEN'],
      ['cancel', { at: 'tomorrow' }, 'at', 'INVALID_VALUE'],
      ['resume', {}, 'subscription', 'NOT_PAUSED'],
    ];
    for (const [action, body, field, code] of cases) {
      const r = await h.request('POST', `/v1/subscriptions/sub_2/${action}`, { ...admin, body });
      expect([action, r.status, r.body.error.code, r.body.error.details]).toEqual([
        action,
        422,
        'VALIDATION_FAILED',
        [expect.objectContaining({ field, code })],
      ]);
    }
    expect((await h.request('POST', '/v1/subscriptions/nope/cancel', { ...admin, body: {} })).status).toBe(
      404,
    );
    expect(
      (await h.request('POST', '/v1/subscriptions/sub_2/cancel', { key: keys.query, body: {} })).status,
    ).toBe(403);
  });

  it('appends a top-up and a void to the credit ledger over HTTP; the balance sees them', async () => {
    const admin = { key: keys.admin };
    const topUp = await h.request('POST', '/v1/customers/acct_42/credits/entries', {
      ...admin,
      body: {
        type: 'grant',
        id: 'topup-1',
        currency: 'USD',
        amountMinor: '5000',
        effective: '2026-12-01',
        source: 'top_up',
      },
    });
    expect(topUp).toMatchObject({ status: 201, body: { entry: { id: 'topup-1' } } });
    const balance = async () =>
      (await h.request('GET', '/v1/customers/acct_42/credits?asOf=2026-12-20', { key: keys.query })).body;
    // The balance reads the catalog cache, which follows writes by a watch.
    await waitFor(async () => (await balance()).balanceMinor === '5000', {
      what: 'the top-up in the balance',
    });
    const voided = await h.request('POST', '/v1/customers/acct_42/credits/entries', {
      ...admin,
      body: { type: 'void', id: 'void-1', grantId: 'topup-1', date: '2026-12-10' },
    });
    expect(voided.status).toBe(201);
    await waitFor(async () => (await balance()).balanceMinor === '0', { what: 'the void in the balance' });
    const again = await h.request('POST', '/v1/customers/acct_42/credits/entries', {
      ...admin,
      body: { type: 'void', id: 'void-2', grantId: 'topup-1', date: '2026-12-11' },
    });
    expect([again.status, again.body.error.details]).toEqual([
      422,
      [expect.objectContaining({ field: 'grantId', code: 'ALREADY_VOIDED' })],
    ]);
    const key = { key: keys.query, body: { type: 'void', id: 'v', grantId: 'topup-1', date: '2026-12-12' } };
    expect((await h.request('POST', '/v1/customers/acct_42/credits/entries', key)).status).toBe(403);
  });
});
