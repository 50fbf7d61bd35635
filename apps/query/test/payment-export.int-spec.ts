/**
 * Payment export to Stripe on the real query service, ClickHouse ledger and NATS KV export ledger,
 * against Stripe's own API mock (stripe-mock, started here on ports of this test's range) behind a
 * recorder. stripe-mock keeps nothing, so "created once" is shown by the requests Tally made: a
 * finalized invoice is one customer, one invoice, one item per line (adding up to Tally's total) and
 * one finalize, each with an Idempotency-Key; a re-run, through the API or by another process on the
 * same ledger, makes no request. A credit note is one Stripe credit note against that invoice.
 */
import { createServer } from 'node:net';
import {
  computeInvoice,
  InvoiceLedger,
  KvPaymentExports,
  PaymentExporter,
  StripePaymentProvider,
  type InvoiceDocument,
} from '@tally/billing';
import { customerPeriod } from '@tally/billing-periods';
import { startStripeMock, type StripeMock } from '@tally/testing';
import { QueryHarness } from './query-harness';

/** A free loopback port in 34000-34999 (this test's range on the shared machine). */
async function portInRange(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 34000 + Math.floor(Math.random() * 1000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 34000-34999');
}

function invoiceDocument(): InvoiceDocument {
  const period = customerPeriod([{ id: 'sub_1', plan: 'pro', start: '2026-10-01' }], '2026-10', 'UTC');
  if (!period) throw new Error('no period');
  // Seats $100.00 + 4,567 calls at $0.01 = $145.67; coupon 10 % = 14.57; NY tax 4 % of 131.10 = 5.24.
  return computeInvoice({
    tenant: 'acme',
    customer: 'acct_42',
    period,
    pricing: {
      subscriptions: period.subscriptions,
      plans: {
        pro: {
          id: 'pro',
          currency: 'USD',
          charges: [
            { id: 'seats', name: 'Seats', kind: 'flat', amount: '100' },
            { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.01' },
          ],
        },
      },
      meterVersions: { calls: 1 },
      finance: {
        coupons: [
          {
            couponId: 'c10',
            name: '10 % off',
            kind: 'percentage',
            percent: '10',
            duration: 'once',
            periodIndex: 0,
          },
        ],
        taxProfile: { jurisdiction: 'US-NY' },
        taxRates: [{ id: 'ny', name: 'NY sales tax', jurisdiction: 'US-NY', percent: '4', inclusive: false }],
      },
    },
    usage: { sub_1: { calls: { total: '4567', days: [] } } },
    fingerprint: { eventCount: '4567', checksum: '1' },
    issuedBy: 'test',
    createdAt: '2026-11-01T00:00:00.000Z',
  });
}

describe('query service: payment export to Stripe (stripe-mock)', () => {
  const h = new QueryHarness();
  let stripe: StripeMock;
  let keys: Awaited<ReturnType<QueryHarness['tenant']>>;
  const invoice = invoiceDocument();

  beforeAll(async () => {
    stripe = await startStripeMock(await portInRange(), await portInRange());
    await h.start({
      PAYMENT_EXPORT_PROVIDER: 'stripe',
      STRIPE_API_KEY: 'sk_test_123',
      STRIPE_API_BASE: stripe.url,
    });
    keys = await h.tenant('acme');
    await new InvoiceLedger(h.db.client).insert([invoice]);
  }, 120_000);
  afterAll(async () => {
    await h.stop();
    await stripe?.stop();
  });

  const exportNow = (id: string, key = keys.admin) =>
    h.request('POST', `/v1/invoices/${id}/payment-export`, { key });

  it('creates a finalized invoice once: customer, invoice, one item per line adding up to the total, finalize', async () => {
    expect(invoice.totalMinor).toBe('13634');
    const first = await exportNow(invoice.invoiceId);
    expect([first.status, first.body.status, first.body.record.kind]).toEqual([200, 'exported', 'invoice']);
    expect(first.body.record.externalId).toMatch(/^in_/);
    const calls = stripe.calls.map((c) => [
      c.method,
      c.path.replace(/in_\w+/, 'in_*'),
      c.idempotencyKey,
      c.status,
    ]);
    const key = (step: string) => `tally/acme/${invoice.invoiceId}/${step}`;
    expect(calls).toEqual([
      ['POST', '/v1/customers', 'tally/acme/customer/acct_42', 200],
      ['POST', '/v1/invoices', key('invoice'), 200],
      ['POST', '/v1/invoiceitems', key('item/0'), 200],
      ['POST', '/v1/invoiceitems', key('item/1'), 200],
      ['POST', '/v1/invoiceitems', key('item/2'), 200],
      ['POST', '/v1/invoiceitems', key('item/3'), 200],
      ['POST', '/v1/invoices/in_*/finalize', key('finalize'), 200],
    ]);
    const items = stripe.calls.filter((c) => c.path === '/v1/invoiceitems');
    expect(items.map((c) => [c.params.get('description'), c.params.get('amount')])).toEqual([
      ['Seats (sub_1)', '10000'],
      ['API calls (sub_1)', '4567'],
      ['Discount: 10 % off', '-1457'],
      ['NY sales tax (4 %)', '524'],
    ]);
    expect(items.reduce((s, c) => s + Number(c.params.get('amount')), 0)).toBe(13634);
    const created = stripe.calls[1].params;
    expect([
      created.get('currency'),
      created.get('metadata[tally_document_id]'),
      created.get('auto_advance'),
    ]).toEqual(['usd', invoice.invoiceId, 'false']);
  });

  it('creates nothing on a re-run, through the API or from another process on the same export ledger', async () => {
    const before = stripe.calls.length;
    const again = await exportNow(invoice.invoiceId);
    expect([again.status, again.body.status]).toEqual([200, 'already_exported']);
    const exports = await KvPaymentExports.open(h.nc, h.names);
    const elsewhere = new PaymentExporter({
      documents: new InvoiceLedger(h.db.client),
      exports,
      provider: new StripePaymentProvider({ apiKey: 'sk_test_123', apiBase: stripe.url }, exports.payers),
    });
    const outcome = await elsewhere.export('acme', invoice.invoiceId);
    expect([outcome.status, outcome.record.externalId]).toEqual([
      'already_exported',
      again.body.record.externalId,
    ]);
    expect(stripe.calls.length).toBe(before);
  });

  it('exports a credit note once, as a Stripe credit note against the exported invoice', async () => {
    const issued = await h.request('POST', `/v1/invoices/${invoice.invoiceId}/credit-notes`, {
      key: keys.admin,
      body: { reason: 'outage on 12 October', lines: [{ lineId: 'sub_1/seats', amountMinor: '3000' }] },
    });
    expect(issued.status).toBe(201);
    const before = stripe.calls.length;
    const first = await exportNow(issued.body.invoiceId);
    expect([first.status, first.body.status, first.body.record.kind]).toEqual([
      200,
      'exported',
      'credit_note',
    ]);
    const made = stripe.calls.slice(before);
    expect(made.map((c) => [c.method, c.path, c.idempotencyKey])).toEqual([
      ['POST', '/v1/credit_notes', `tally/acme/${issued.body.invoiceId}/credit-note`],
    ]);
    const params = made[0].params;
    const invoiceExport = await exportNow(invoice.invoiceId);
    expect(params.get('invoice')).toBe(invoiceExport.body.record.externalId);
    expect([params.get('memo'), params.get('lines[0][unit_amount]')]).toEqual([
      'outage on 12 October',
      issued.body.creditNote.totalMinor,
    ]);
    const again = await exportNow(issued.body.invoiceId);
    expect(again.body.status).toBe('already_exported');
    expect(stripe.calls.length).toBe(before + 1);
  });

  it('leaves no record when Stripe is unreachable (502 PAYMENT_PROVIDER_ERROR, retryable), so a later attempt exports', async () => {
    const other = invoiceDocument();
    const doc = {
      ...other,
      customer: 'acct_43',
      invoiceId: other.invoiceId.replace(/-[0-9a-f]{16}-/, '-00000000000000aa-'),
    };
    await new InvoiceLedger(h.db.client).insert([doc]);
    const exports = await KvPaymentExports.open(h.nc, h.names);
    const unreachable = new PaymentExporter({
      documents: new InvoiceLedger(h.db.client),
      exports,
      provider: new StripePaymentProvider(
        { apiKey: 'sk_test_123', apiBase: `http://127.0.0.1:${await portInRange()}` },
        exports.payers,
      ),
    });
    await expect(unreachable.export('acme', doc.invoiceId)).rejects.toMatchObject({
      code: 'PAYMENT_PROVIDER_ERROR',
      httpStatus: 502,
      retryable: true,
    });
    expect(await exports.get('acme', 'stripe', doc.invoiceId)).toBeUndefined();
    const later = await exportNow(doc.invoiceId);
    expect([later.status, later.body.status]).toEqual([200, 'exported']);
  });

  it('answers 404 for an unknown document and 403 for a query key', async () => {
    expect((await exportNow('inv-2026-10-0000000000000000-v1')).status).toBe(404);
    expect((await exportNow(invoice.invoiceId, keys.query)).status).toBe(403);
  });
});
