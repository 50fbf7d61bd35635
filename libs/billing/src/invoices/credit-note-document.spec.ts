import { customerPeriod } from '@tally/billing-periods';
import type { Plan } from '@tally/pricing';
import { computeCreditNoteDocument } from './credit-note-document';
import { computeAdjustment, computeInvoice, type InvoiceDocument } from './invoice';

/**
 * docs/finance.md#credit-notes, on issued documents: seats $100.00 and calls $45.67 in New York City
 * (4 % + 4.5 %, exclusive): seats 10000 + 400 + 450 = 10850, calls 4567 + 183 (182.68) + 206 (205.515)
 * = 4956, invoice $158.06.
 */
const plan: Plan = {
  id: 'pro',
  currency: 'USD',
  charges: [
    { id: 'seats', name: 'Seats', kind: 'flat', amount: '100' },
    { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.01' },
  ],
};
const period = customerPeriod([{ id: 's', plan: 'pro', start: '2026-10-01' }], '2026-10', 'UTC');
if (!period) throw new Error('no period');
const rates = [
  { id: 'ny', name: 'NY 4 %', jurisdiction: 'US-NY', percent: '4', inclusive: false },
  { id: 'nyc', name: 'NYC 4.5 %', jurisdiction: 'US-NY-NYC', percent: '4.5', inclusive: false },
];
const pricing = {
  subscriptions: period.subscriptions,
  plans: { pro: plan },
  meterVersions: { calls: 1 },
  finance: { coupons: [], taxProfile: { jurisdiction: 'US-NY-NYC' }, taxRates: rates },
};
const usage = (calls: string) => ({ s: { calls: { total: calls, days: [] } } });
const invoice = computeInvoice({
  tenant: 't',
  customer: 'c',
  period,
  pricing,
  usage: usage('4567'),
  fingerprint: { eventCount: '4567', checksum: '1' },
  issuedBy: 'test',
  createdAt: '2026-11-01T00:00:00.000Z',
});
const meta = { issuedBy: 'credit-note/test', createdAt: '2026-11-10T00:00:00.000Z' };

describe('credit notes on request, as ledger documents', () => {
  it('the invoice owes $158.06', () => {
    expect(invoice.totalMinor).toBe('15806');
  });

  it('a full credit note gives back exactly $158.06 and leaves the period owing 0', () => {
    const cn = computeCreditNoteDocument([invoice], { reason: 'refund' }, meta);
    expect([cn.kind, cn.version, cn.totalMinor, cn.cumulativeTotalMinor]).toEqual([
      'adjustment',
      2,
      '-15806',
      '0',
    ]);
    expect(cn.creditNoteNumber).toMatch(/^cn-2026-10-[0-9a-f]{16}-v2$/);
    expect(cn.creditNote?.number).toBe(cn.creditNoteNumber);
    expect(cn.referencesInvoiceId).toBe(invoice.invoiceId);
    expect(cn.effectiveLines).toEqual(invoice.effectiveLines);
    // Nothing is left to credit.
    expect(() => computeCreditNoteDocument([invoice, cn], { reason: 'again' }, meta)).toThrow();
  });

  it('$30.00 of seats gives back 3000 + 120 + 135 = $32.55; the rest of seats 7000 + 280 + 315 = $75.95', () => {
    const partial = computeCreditNoteDocument(
      [invoice],
      { reason: 'dispute', lines: [{ lineId: 's/seats', amountMinor: '3000' }] },
      meta,
    );
    expect([partial.totalMinor, partial.cumulativeTotalMinor]).toEqual(['-3255', '12551']);
    expect(partial.creditNote?.lines[0].taxes.map((t) => t.amountMinor)).toEqual(['120', '135']);
    const rest = computeCreditNoteDocument(
      [invoice, partial],
      { reason: 'dispute', lines: [{ lineId: 's/seats' }] },
      meta,
    );
    expect([rest.version, rest.totalMinor, rest.cumulativeTotalMinor]).toEqual([3, '-7595', '4956']);
    // 32.55 + 75.95 = 108.50, the seats line exactly; more is refused with the field.
    expect(() =>
      computeCreditNoteDocument(
        [invoice, partial, rest],
        { reason: 'x', lines: [{ lineId: 's/seats', amountMinor: '1' }] },
        meta,
      ),
    ).toThrow(
      expect.objectContaining({
        details: [expect.objectContaining({ field: 'lines[0].amountMinor', code: 'CREDIT_EXCEEDS_INVOICE' })],
      }),
    );
    expect(() =>
      computeCreditNoteDocument([invoice], { reason: 'x', lines: [{ lineId: 's/nope' }] }, meta),
    ).toThrow(expect.objectContaining({ details: [expect.objectContaining({ code: 'UNKNOWN_LINE' })] }));
  });

  it('a later adjustment (late events) keeps the credit: it adds only what the new usage costs', () => {
    const partial = computeCreditNoteDocument(
      [invoice],
      { reason: 'dispute', lines: [{ lineId: 's/seats', amountMinor: '3000' }] },
      meta,
    );
    const docs: InvoiceDocument[] = [invoice, partial];
    // 100 more calls: taxes per line on 4667: 4 % 186.68 → 187, 4.5 % 210.015 → 210.
    const adj = computeAdjustment(
      invoice,
      partial,
      {
        usage: usage('4667'),
        fingerprint: { eventCount: '4667', checksum: '2' },
        issuedBy: 'rebill',
        createdAt: meta.createdAt,
      },
      undefined,
      docs,
    );
    // Calls line 4667 + 187 + 210 = 5064 instead of 4956: +108. The period owes 12551 + 108 = 12659.
    expect([adj?.version, adj?.totalMinor, adj?.cumulativeTotalMinor]).toEqual([3, '108', '12659']);
  });

  it('an adjustment written beside a credit note of the same version is not undone by the next one', () => {
    const partial = computeCreditNoteDocument(
      [invoice],
      { reason: 'd', lines: [{ lineId: 's/seats', amountMinor: '3000' }] },
      meta,
    );
    const recomputed = (calls: string, count: string) => ({
      usage: usage(calls),
      fingerprint: { eventCount: count, checksum: count },
      issuedBy: 'rebill',
      createdAt: meta.createdAt,
    });
    // The rebiller read only the invoice, then wrote version 2 beside the credit note's version 2.
    const beside = computeAdjustment(invoice, invoice, recomputed('4667', '4667'), undefined, [invoice]);
    expect(beside?.version).toBe(2);
    expect(beside?.invoiceId).not.toBe(partial.invoiceId);
    const docs = [invoice, partial, beside as InvoiceDocument];
    const next = computeAdjustment(
      invoice,
      beside as InvoiceDocument,
      recomputed('4767', '4767'),
      undefined,
      docs,
    );
    // Owed: calls 4767 + 191 (190.68) + 215 (214.515) = 5173, seats 10850, minus the credit 3255 = 12768;
    // billed so far 15806 − 3255 + 108 = 12659: the next adjustment is +109.
    expect([next?.version, next?.totalMinor, next?.cumulativeTotalMinor]).toEqual([3, '109', '12768']);
  });
});
