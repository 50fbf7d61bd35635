/**
 * Credit notes on request over HTTP on the real query service and ClickHouse ledger: an invoice is
 * written to the ledger, then credited partly and in full through `POST /v1/invoices/:id/credit-notes`;
 * the credit notes are numbered, in the ledger, in the JSON and HTML documents; 422 with stable codes
 * and fields, 404, 403 for a query key. The arithmetic: libs/billing credit-note-document.spec.ts.
 */
import { computeInvoice, InvoiceLedger } from '@tally/billing';
import { customerPeriod } from '@tally/billing-periods';
import { QueryHarness } from './query-harness';

describe('query service: credit notes on request', () => {
  const h = new QueryHarness();
  let keys: Awaited<ReturnType<QueryHarness['tenant']>>;
  let invoiceId: string;

  beforeAll(async () => {
    await h.start();
    keys = await h.tenant('acme');
    const period = customerPeriod([{ id: 's', plan: 'pro', start: '2026-10-01' }], '2026-10', 'UTC');
    if (!period) throw new Error('no period');
    // Seats $100.00 + 4,567 calls at $0.01 = $145.67.
    const invoice = computeInvoice({
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
      },
      usage: { s: { calls: { total: '4567', days: [] } } },
      fingerprint: { eventCount: '4567', checksum: '1' },
      issuedBy: 'test',
      createdAt: '2026-11-01T00:00:00.000Z',
    });
    invoiceId = invoice.invoiceId;
    await new InvoiceLedger(h.db.client).insert([invoice]);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('issues a partial then a full credit note: numbered, in the ledger, in the JSON and HTML documents', async () => {
    const admin = { key: keys.admin };
    const partial = await h.request('POST', `/v1/invoices/${invoiceId}/credit-notes`, {
      ...admin,
      body: { reason: 'outage on 12 October', lines: [{ lineId: 's/seats', amountMinor: '3000' }] },
    });
    expect(partial.status).toBe(201);
    expect(partial.body).toMatchObject({
      kind: 'adjustment',
      version: 2,
      referencesInvoiceId: invoiceId,
      totalMinor: '-3000',
      cumulativeTotalMinor: '11567',
      creditNote: { reason: 'outage on 12 October', totalMinor: '3000' },
    });
    expect(partial.body.creditNoteNumber).toMatch(/^cn-2026-10-[0-9a-f]{16}-v2$/);
    const full = await h.request('POST', `/v1/invoices/${invoiceId}/credit-notes`, {
      ...admin,
      body: { reason: 'contract ended' },
    });
    expect([full.status, full.body.version, full.body.totalMinor, full.body.cumulativeTotalMinor]).toEqual([
      201,
      3,
      '-11567',
      '0',
    ]);
    const listed = await h.request('GET', '/v1/customers/acct_42/invoices', { key: keys.query });
    expect(listed.body.invoices.map((d: Record<string, unknown>) => [d.version, d.totalMinor])).toEqual([
      [1, '14567'],
      [2, '-3000'],
      [3, '-11567'],
    ]);
    const read = await h.request('GET', `/v1/invoices/${partial.body.invoiceId}`, { key: keys.query });
    expect(read.body.creditNote).toEqual(partial.body.creditNote);
    expect(read.body.creditNoteNumber).toBe(partial.body.creditNoteNumber);
    const html = await h.request('GET', `/v1/invoices/${partial.body.invoiceId}.html`, { key: keys.query });
    expect(html.body).toContain(`Credit note ${partial.body.creditNoteNumber}`);
    expect(html.body).toContain('outage on 12 October');
  });

  it('answers 422 with codes and fields, 404 for an unknown invoice, 403 for a query key', async () => {
    const post = (id: string, body: unknown, key = keys.admin) =>
      h.request('POST', `/v1/invoices/${id}/credit-notes`, { key, body });
    const over = await post(invoiceId, { reason: 'x', lines: [{ lineId: 's/calls', amountMinor: '1' }] });
    expect([over.status, over.body.error.details]).toEqual([
      422,
      [expect.objectContaining({ field: 'lines[0].amountMinor', code: 'CREDIT_EXCEEDS_INVOICE' })],
    ]);
    const unknown = await post(invoiceId, { reason: 'x', lines: [{ lineId: 's/nope' }] });
    expect(unknown.body.error.details).toEqual([
      expect.objectContaining({ field: 'lines[0].lineId', code: 'UNKNOWN_LINE' }),
    ]);
    const noReason = await post(invoiceId, {});
    expect([noReason.status, noReason.body.error.details[0].field]).toEqual([422, 'reason']);
    const docs = await h.request('GET', '/v1/customers/acct_42/invoices', { key: keys.query });
    const adjustment = await post(docs.body.invoices[1].invoiceId, { reason: 'x' });
    expect(adjustment.body.error.details).toEqual([
      expect.objectContaining({ field: 'invoiceId', code: 'NOT_AN_INVOICE' }),
    ]);
    expect((await post('inv-2026-10-0000000000000000-v1', { reason: 'x' })).status).toBe(404);
    expect((await post(invoiceId, { reason: 'x' }, keys.query)).status).toBe(403);
  });
});
