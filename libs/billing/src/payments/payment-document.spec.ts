import { customerPeriod } from '@tally/billing-periods';
import { computeCreditNoteDocument } from '../invoices/credit-note-document';
import { computeAdjustment, computeInvoice, type InvoiceComputation } from '../invoices/invoice';
import { paymentDocumentOf } from './payment-document';

const period = customerPeriod([{ id: 's', plan: 'pro', start: '2026-10-01' }], '2026-10', 'UTC');
if (!period) throw new Error('no period');
/** Seats $100 + calls at $0.01, a 10 % coupon, NY 4 % (exclusive). */
const computation = (calls: string): InvoiceComputation => ({
  tenant: 'acme',
  customer: 'c',
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
          name: '10 %',
          kind: 'percentage',
          percent: '10',
          duration: 'once',
          periodIndex: 0,
        },
      ],
      taxProfile: { jurisdiction: 'US-NY' },
      taxRates: [{ id: 'ny', name: 'NY', jurisdiction: 'US-NY', percent: '4', inclusive: false }],
    },
  },
  usage: { s: { calls: { total: calls, days: [] } } },
  fingerprint: { eventCount: calls, checksum: '1' },
  issuedBy: 't',
  createdAt: '2026-11-01T00:00:00.000Z',
});
const meta = { issuedBy: 't', createdAt: '2026-11-02T00:00:00.000Z' };

describe('paymentDocumentOf', () => {
  const invoice = computeInvoice(computation('4567'));

  it('sends an invoice as its lines, then discounts and exclusive taxes, adding up to its total', () => {
    const doc = paymentDocumentOf(invoice);
    expect(doc?.kind).toBe('invoice');
    expect(doc?.lines).toEqual([
      { description: 'Seats (s)', amountMinor: '10000' },
      { description: 'API calls (s)', amountMinor: '4567' },
      { description: 'Discount: 10 %', amountMinor: '-1457' },
      { description: 'NY (4 %)', amountMinor: '524' },
    ]);
    expect(doc?.totalMinor).toBe(invoice.totalMinor);
  });

  it('sends an upward adjustment as an invoice whose last line carries the change of discount and tax', () => {
    const adjustment = computeAdjustment(invoice, invoice, computation('5567'));
    const doc = adjustment && paymentDocumentOf(adjustment);
    // 1,000 more calls: +1000, coupon −100, tax +36 (4 % of 900): +936.
    expect(adjustment?.totalMinor).toBe('936');
    expect(doc?.lines).toEqual([
      { description: 'API calls (s): 4567 → 5567', amountMinor: '1000' },
      { description: 'Discounts, credits and taxes (change)', amountMinor: '-64' },
    ]);
  });

  it('sends a credit note and a downward adjustment as credit notes of the invoice; an adjustment of zero not at all', () => {
    const note = computeCreditNoteDocument(
      [invoice],
      { reason: 'outage', lines: [{ lineId: 's/seats', amountMinor: '3000' }] },
      meta,
    );
    expect(paymentDocumentOf(note)).toMatchObject({
      kind: 'credit_note',
      creditsDocumentId: invoice.invoiceId,
      number: note.creditNoteNumber,
      memo: 'outage',
      lines: [{ description: 'Seats', amountMinor: '3120' }],
      totalMinor: '3120',
    });
    const lower = computeAdjustment(invoice, invoice, computation('3567'));
    expect(lower && paymentDocumentOf(lower)).toMatchObject({ kind: 'credit_note', totalMinor: '936' });
    // A backdated change that moved nothing, say: nothing to collect or give back.
    expect(
      paymentDocumentOf({ ...invoice, kind: 'adjustment', version: 2, lines: [], totalMinor: '0' }),
    ).toBeUndefined();
  });

  it('refuses a document whose lines do not add up to its total (PAYMENT_LINES_MISMATCH)', () => {
    expect(() => paymentDocumentOf({ ...invoice, totalMinor: '1' })).toThrow(
      expect.objectContaining({ code: 'PAYMENT_LINES_MISMATCH' }),
    );
  });
});
