import { InMemoryInvoiceLedger } from '@tally/billing/testing';
import type { InvoiceDocument } from '@tally/billing';
import { customerSchema, parseEntity, tenantSchema } from '@tally/catalog';
import { CreditBalanceService } from './credit-balance.service';

describe('credit balance of a customer', () => {
  const tenant = parseEntity(
    tenantSchema,
    { id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' },
    'tenant',
  );
  const customer = parseEntity(
    customerSchema,
    {
      tenant: 'acme',
      id: 'c',
      createdAt: '2026-01-01T00:00:00Z',
      billing: {
        credits: [
          { type: 'grant', id: 'g1', currency: 'USD', amountMinor: '1500', effective: '2026-10-01' },
          {
            type: 'grant',
            id: 'g2',
            currency: 'USD',
            amountMinor: '500',
            effective: '2026-10-01',
            expires: '2026-12-01',
          },
          { type: 'void', id: 'v1', grantId: 'g2', date: '2026-11-15' },
        ],
      },
    },
    'customer',
  );
  const catalog = {
    getTenant: (id: string) => (id === 'acme' ? tenant : undefined),
    getCustomer: (t: string, id: string) => (t === 'acme' && id === 'c' ? customer : undefined),
  };
  const ledger = new InMemoryInvoiceLedger();
  // October's invoice drew 1366 of g2 first (it expires first), then of g1.
  void ledger.insert([
    {
      tenant: 'acme',
      customer: 'c',
      period: '2026-10',
      invoiceId: 'inv-2026-10-0000000000000000-v1',
      version: 1,
      finance: {
        credits: [
          { bucketId: 'g2', grantId: 'g2', date: '2026-10-01', segmentTo: '2026-11-01', amountMinor: '500' },
          { bucketId: 'g1', grantId: 'g1', date: '2026-10-01', segmentTo: '2026-11-01', amountMinor: '866' },
        ],
      },
    } as unknown as InvoiceDocument,
  ]);
  const service = new CreditBalanceService(catalog, ledger, () => Date.parse('2026-11-20T12:00:00Z'));

  it('replays grants, draws and voids up to a date (today in the customer zone by default)', async () => {
    // Granted 1500 + 500 = 2000; drawn 500 + 866 = 1366; g2 had nothing left to void. Balance 634 (all of g1).
    const today = await service.balance('acme', 'c');
    expect([today.asOf, today.balanceMinor, today.grantedMinor, today.drawnMinor, today.voidedMinor]).toEqual(
      ['2026-11-20', '634', '2000', '1366', '0'],
    );
    expect(today.buckets.map((b) => [b.bucketId, b.remainingMinor])).toEqual([['g1', '634']]);
    expect((await service.balance('acme', 'c', '2026-09-30')).balanceMinor).toBe('0');
  });

  it('refuses a bad date or currency and an unknown customer with stable codes', async () => {
    await expect(service.balance('acme', 'c', '2026-13-01')).rejects.toMatchObject({ code: 'INVALID_DATE' });
    await expect(service.balance('acme', 'c', undefined, 'usd')).rejects.toMatchObject({
      code: 'INVALID_CURRENCY',
    });
    await expect(service.balance('acme', 'nobody')).rejects.toMatchObject({ httpStatus: 404 });
  });
});

describe('unit balance of a customer (GET /v1/customers/:id/credits?meter=)', () => {
  const tenant = parseEntity(
    tenantSchema,
    { id: 'acme', name: 'Acme', timezone: 'UTC', currency: 'USD' },
    'tenant',
  );
  const customer = parseEntity(
    customerSchema,
    {
      tenant: 'acme',
      id: 'c',
      createdAt: '2026-01-01T00:00:00Z',
      billing: {
        credits: [
          { type: 'grant', id: 'g1', currency: 'USD', amountMinor: '1500', effective: '2026-10-01' },
          { type: 'unit_grant', id: 'calls1k', meter: 'api_calls', units: '1000', effective: '2026-10-01' },
          {
            type: 'unit_grant',
            id: 'calls-oct',
            meter: 'api_calls',
            units: '300',
            effective: '2026-10-01',
            expires: '2026-11-01',
          },
        ],
      },
    },
    'customer',
  );
  const catalog = {
    getTenant: (id: string) => (id === 'acme' ? tenant : undefined),
    getCustomer: (t: string, id: string) => (t === 'acme' && id === 'c' ? customer : undefined),
  };
  const ledger = new InMemoryInvoiceLedger();
  // October's invoice: 250 calls from calls-oct (it expires first), 400 from calls1k.
  void ledger.insert([
    {
      tenant: 'acme',
      customer: 'c',
      period: '2026-10',
      invoiceId: 'inv-2026-10-0000000000000000-v1',
      version: 1,
      finance: {
        credits: [],
        unitCredits: [
          {
            id: 'inv-2026-10-0000000000000000-v1/unit/calls-oct',
            grantId: 'calls-oct',
            meter: 'api_calls',
            date: '2026-10-02',
            units: '250',
            invoiceId: 'inv-2026-10-0000000000000000-v1',
          },
          {
            id: 'inv-2026-10-0000000000000000-v1/unit/calls1k',
            grantId: 'calls1k',
            meter: 'api_calls',
            date: '2026-10-20',
            units: '400',
            invoiceId: 'inv-2026-10-0000000000000000-v1',
          },
        ],
      },
    } as unknown as InvoiceDocument,
  ]);
  const service = new CreditBalanceService(catalog, ledger, () => Date.parse('2026-11-20T12:00:00Z'));

  it('replays unit grants and the invoices unit draws; the money balance ignores them', async () => {
    // Granted 1000 + 300 = 1300; drawn 250 + 400 = 650; calls-oct's 50 left expired on 1 November: 600.
    expect(await service.unitBalance('acme', 'c', 'api_calls')).toMatchObject({
      asOf: '2026-11-20',
      meter: 'api_calls',
      balanceUnits: '600',
      grantedUnits: '1300',
      drawnUnits: '650',
      expiredUnits: '50',
      buckets: [{ grantId: 'calls1k', remainingUnits: '600' }],
    });
    // On 15 October only the draw dated 2 October counts: 1300 − 250.
    expect((await service.unitBalance('acme', 'c', 'api_calls', '2026-10-15')).balanceUnits).toBe('1050');
    expect((await service.unitBalance('acme', 'c', 'storage_gb')).balanceUnits).toBe('0');
    expect((await service.balance('acme', 'c')).balanceMinor).toBe('1500');
    await expect(service.unitBalance('acme', 'c', 'not a key')).rejects.toMatchObject({
      code: 'INVALID_METER',
    });
  });

  it('gives both balances from one read of the ledger (an entitlement check)', async () => {
    const reads: string[] = [];
    const counting = {
      listForCustomer: (t: string, c: string) => {
        reads.push(c);
        return ledger.listForCustomer(t, c);
      },
    };
    const once = new CreditBalanceService(catalog, counting, () => Date.parse('2026-11-20T12:00:00Z'));
    const both = await once.balances('acme', 'c', 'api_calls');
    expect(reads).toEqual(['c']);
    expect(both).toEqual({
      credit: await service.balance('acme', 'c'),
      units: await service.unitBalance('acme', 'c', 'api_calls'),
    });
    await expect(once.balances('acme', 'c', 'not a key')).rejects.toMatchObject({ code: 'INVALID_METER' });
    await expect(once.balances('acme', 'nobody', 'api_calls')).rejects.toMatchObject({ httpStatus: 404 });
    expect(reads).toEqual(['c']);
  });
});
