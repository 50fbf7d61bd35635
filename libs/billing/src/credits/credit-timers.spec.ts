import type { Customer, Tenant } from '@tally/catalog';
import { InMemoryInvoiceLedger } from '../testing';
import { CreditTimers, type CreditLedgerWriterPort } from './credit-timers';

/** The catalog store's customer and tenant reads and the revision-checked write, in memory. */
function store(customer: Customer, tenant: Tenant) {
  let current = { value: customer, revision: 1 };
  const port = {
    getTenant: async () => ({ value: tenant, revision: 1 }),
    getCustomer: async () => current,
    putCustomer: async (value: Customer, opts?: { expectedRevision?: number }) => {
      if (opts?.expectedRevision !== current.revision) throw new Error('revision');
      current = { value, revision: current.revision + 1 };
      return current;
    },
  };
  return { port: port as unknown as CreditLedgerWriterPort, read: () => current.value };
}

const tenant = { id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' } as Tenant;

describe('credit grant timer steps', () => {
  it('waits until the expiry date starts in the customer zone, then records it once and ends', async () => {
    // New York, 15 March 2026 08:00 local (12:00Z, daylight time since 8 March): the grant expires on
    // 16 March, which starts at 04:00Z, 16 hours later.
    const customer = {
      tenant: 'acme',
      id: 'c1',
      timezone: 'America/New_York',
      billing: {
        credits: [
          {
            type: 'grant',
            id: 'g',
            currency: 'USD',
            amountMinor: '5000',
            effective: '2026-02-15',
            expires: '2026-03-16',
          },
        ],
      },
    } as Customer;
    const s = store(customer, tenant);
    let now = Date.parse('2026-03-15T12:00:00Z');
    const timers = new CreditTimers(s.port, new InMemoryInvoiceLedger(), () => now);
    const req = { tenant: 'acme', customer: 'c1', grantId: 'g' };
    expect(await timers.step(req)).toEqual({
      status: 'waiting',
      recorded: [],
      next: '2026-03-16',
      waitMs: 16 * 3_600_000,
    });
    // Woken a second early (a skewed clock): nothing yet, one second more.
    now = Date.parse('2026-03-16T03:59:59Z');
    expect(await timers.step(req)).toMatchObject({ status: 'waiting', recorded: [], waitMs: 1_000 });
    now = Date.parse('2026-03-16T04:00:00Z');
    expect(await timers.step(req)).toEqual({ status: 'done', recorded: ['g__expiry'], reason: 'ended' });
    expect(await timers.step(req)).toEqual({ status: 'done', recorded: [], reason: 'ended' });
    expect(s.read().billing?.credits?.map((e) => e.id)).toEqual(['g', 'g__expiry']);
    expect(await timers.step({ ...req, grantId: 'nope' })).toMatchObject({ reason: 'unknown_grant' });
  });
});
