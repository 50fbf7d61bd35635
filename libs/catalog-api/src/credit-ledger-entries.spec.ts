import { CreditLedgerEntries } from '@tally/catalog';
import { ConflictError, NotFoundError, ValidationFailedError } from '@tally/errors';
import { InMemoryCatalog } from './testing/in-memory-catalog';

async function setUp() {
  const store = new InMemoryCatalog();
  await store.putTenant({ id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' });
  await store.putCustomer({ tenant: 'acme', id: 'c1' });
  return { store, entries: new CreditLedgerEntries(store) };
}

const grant = (id: string) => ({
  type: 'grant',
  id,
  currency: 'USD',
  amountMinor: '5000',
  effective: '2026-12-01',
  source: 'top_up',
});
const codes = (p: Promise<unknown>) =>
  p.then(
    () => [],
    (e: unknown) => {
      expect(e).toBeInstanceOf(ValidationFailedError);
      return (e as ValidationFailedError).details.map((d) => [d.field, d.code]);
    },
  );

describe('credit ledger entries (top-ups, grants, voids) through the API', () => {
  it('appends a top-up, then a void of it; the ledger only grows', async () => {
    const { store, entries } = await setUp();
    expect((await entries.append('acme', 'c1', grant('t1'))).entry).toMatchObject({
      id: 't1',
      source: 'top_up',
    });
    await entries.append('acme', 'c1', {
      type: 'void',
      id: 'v1',
      grantId: 't1',
      date: '2026-12-15',
      reason: 'refunded',
    });
    expect(
      (await store.getCustomer('acme', 'c1'))?.value.billing?.credits?.map((e) => [e.type, e.id]),
    ).toEqual([
      ['grant', 't1'],
      ['void', 'v1'],
    ]);
  });

  it('refuses a duplicate id, a void of an unknown or voided grant, and a bad entry, with fields', async () => {
    const { entries } = await setUp();
    await entries.append('acme', 'c1', grant('t1'));
    expect(await codes(entries.append('acme', 'c1', grant('t1')))).toEqual([['id', 'DUPLICATE_ID']]);
    expect(
      await codes(
        entries.append('acme', 'c1', { type: 'void', id: 'v', grantId: 'nope', date: '2026-12-02' }),
      ),
    ).toEqual([['grantId', 'UNKNOWN_GRANT']]);
    await entries.append('acme', 'c1', { type: 'void', id: 'v1', grantId: 't1', date: '2026-12-02' });
    expect(
      await codes(
        entries.append('acme', 'c1', { type: 'void', id: 'v2', grantId: 't1', date: '2026-12-03' }),
      ),
    ).toEqual([['grantId', 'ALREADY_VOIDED']]);
    expect(await codes(entries.append('acme', 'c1', { ...grant('t2'), amountMinor: '50.00' }))).toEqual([
      ['amountMinor', expect.any(String)],
    ]);
    await expect(entries.append('acme', 'nope', grant('t3'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('two appends from the same read: the second conflicts instead of dropping the first', async () => {
    const { store, entries } = await setUp();
    const get = store.getCustomer.bind(store);
    const first = await get('acme', 'c1');
    store.getCustomer = async () => first;
    await entries.append('acme', 'c1', grant('a'));
    await expect(entries.append('acme', 'c1', grant('b'))).rejects.toBeInstanceOf(ConflictError);
  });

  it('timer records: appended once whatever the number of calls, never through the API, retried on a conflict', async () => {
    const { store, entries } = await setUp();
    await entries.append('acme', 'c1', { ...grant('g'), expires: '2026-12-20' });
    const expiry = {
      type: 'expiry' as const,
      id: 'g__expiry',
      grantId: 'g',
      bucketId: 'g',
      date: '2026-12-20',
    };
    expect(await entries.record('acme', 'c1', [expiry])).toEqual(['g__expiry']);
    expect(await entries.record('acme', 'c1', [expiry])).toEqual([]);
    // Only the timers write records: the API's body is a grant or a void.
    expect(await codes(entries.append('acme', 'c1', { ...expiry, id: 'x' }))).toEqual([
      ['type', expect.any(String)],
    ]);
    // Another entry of the same id is refused, not overwritten.
    expect(await codes(entries.record('acme', 'c1', [{ ...expiry, date: '2026-12-21' }]))).toEqual([
      ['id', 'DUPLICATE_ID'],
    ]);
    // A top-up written between the read and the write: read again, both kept.
    const get = store.getCustomer.bind(store);
    let raced = false;
    store.getCustomer = async (t, c) => {
      const found = await get(t, c);
      if (!raced) {
        raced = true;
        await entries.append('acme', 'c1', grant('topup'));
      }
      return found;
    };
    const recurrence = {
      type: 'recurrence' as const,
      id: 'r',
      grantId: 'g',
      bucketId: 'g#1',
      date: '2026-12-21',
    };
    expect(await entries.record('acme', 'c1', [recurrence])).toEqual(['r']);
    store.getCustomer = get;
    expect((await get('acme', 'c1'))?.value.billing?.credits?.map((e) => e.id)).toEqual([
      'g',
      'g__expiry',
      'topup',
      'r',
    ]);
  });
});

describe('unit grants through the API (docs/finance.md#unit-grants)', () => {
  const unitGrant = (over: Record<string, unknown> = {}) => ({
    type: 'unit_grant',
    id: 'free-calls',
    meter: 'api_calls',
    units: '1000',
    effective: '2026-12-01',
    ...over,
  });

  it('appends a grant of 1,000 calls of a meter of the tenant', async () => {
    const { store, entries } = await setUp();
    await store.putMeter({
      tenant: 'acme',
      key: 'api_calls',
      name: 'API calls',
      eventTypes: ['call'],
      aggregation: 'count',
    });
    expect((await entries.append('acme', 'c1', unitGrant({ expires: '2027-01-01' }))).entry).toEqual(
      unitGrant({ expires: '2027-01-01' }),
    );
    expect(
      (await store.getCustomer('acme', 'c1'))?.value.billing?.credits?.map((e) => [e.type, e.id]),
    ).toEqual([['unit_grant', 'free-calls']]);
  });

  it('refuses no units, an expiry not after the start, an unknown meter and bad fields, with fields and codes', async () => {
    const { store, entries } = await setUp();
    expect(await codes(entries.append('acme', 'c1', unitGrant()))).toEqual([['meter', 'UNKNOWN_METER']]);
    await store.putMeter({
      tenant: 'acme',
      key: 'api_calls',
      name: 'API calls',
      eventTypes: ['call'],
      aggregation: 'count',
    });
    expect(await codes(entries.append('acme', 'c1', unitGrant({ units: '0.000' })))).toEqual([
      ['units', 'NOT_POSITIVE'],
    ]);
    expect(await codes(entries.append('acme', 'c1', unitGrant({ expires: '2026-12-01' })))).toEqual([
      ['expires', 'EXPIRES_NOT_AFTER_EFFECTIVE'],
    ]);
    // Units are decimal text, never a JSON number or an exponent; the meter is a meter key.
    expect(await codes(entries.append('acme', 'c1', unitGrant({ units: 1000 })))).toEqual([
      ['units', expect.any(String)],
    ]);
    expect(await codes(entries.append('acme', 'c1', unitGrant({ units: '1e3' })))).toEqual([
      ['units', expect.any(String)],
    ]);
    expect(await codes(entries.append('acme', 'c1', unitGrant({ meter: 'Not A Key' })))).toEqual([
      ['meter', expect.any(String)],
    ]);
    await entries.append('acme', 'c1', unitGrant());
    expect(await codes(entries.append('acme', 'c1', unitGrant()))).toEqual([['id', 'DUPLICATE_ID']]);
    // A unit grant is voided like a grant, once.
    const voidIt = (id: string) => ({ type: 'void', id, grantId: 'free-calls', date: '2026-12-10' });
    expect((await entries.append('acme', 'c1', voidIt('v1'))).entry).toMatchObject({ grantId: 'free-calls' });
    expect(await codes(entries.append('acme', 'c1', voidIt('v2')))).toEqual([['grantId', 'ALREADY_VOIDED']]);
  });
});
