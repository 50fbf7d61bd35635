import type { Plan } from '@tally/pricing';
import { INVOICE_ID_PATTERN, invoiceId } from './document-ids';
import {
  computeAdjustment,
  computeInvoice,
  type AdjustmentLine,
  type InvoiceComputation,
  type SeriesUsage,
} from './invoice';
import { customerPeriod } from '@tally/billing-periods';

/** The value, or a test failure naming what was missing. */
function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}

const plan: Plan = {
  id: 'pro',
  currency: 'USD',
  charges: [
    { id: 'base', name: 'Platform fee', kind: 'flat', amount: '10' },
    { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.05', freeUnits: '2' },
    { id: 'peak', name: 'Peak storage', kind: 'per_unit', meter: 'storage', unitPrice: '1' },
  ],
};
const share = defined(
  customerPeriod([{ id: 'sub-a', plan: 'pro', start: '2026-10-16', billingAnchorDay: 1 }], '2026-10', 'UTC'),
);
const usage = (calls: string, storage: string): Record<string, Record<string, SeriesUsage>> => ({
  'sub-a': { calls: { total: calls, days: [] }, storage: { total: storage, days: [] } },
});
const computation = (
  calls: string,
  storage: string,
  eventCount: string,
  checksum: string,
): InvoiceComputation => ({
  tenant: 'acme',
  customer: 'a',
  period: share,
  pricing: {
    subscriptions: share.subscriptions,
    plans: { pro: plan },
    meterVersions: { calls: 1, storage: 2 },
  },
  usage: usage(calls, storage),
  fingerprint: { eventCount, checksum },
  issuedBy: 'invoice/acme/a/2026-10',
  createdAt: '2026-11-01T01:00:00.000Z',
});

describe('invoices', () => {
  it('have deterministic ids from tenant, customer, period and version', () => {
    expect(invoiceId('acme', 'a', '2026-10', 1)).toBe(invoiceId('acme', 'a', '2026-10', 1));
    expect(invoiceId('acme', 'a', '2026-10', 1)).not.toBe(invoiceId('acme', 'b', '2026-10', 1));
    expect(invoiceId('acme', 'a', '2026-10', 1)).toMatch(/^inv-2026-10-[0-9a-f]{16}-v1$/);
    expect(invoiceId('acme', 'a', '2026-10', 2)).toMatch(/^adj-2026-10-[0-9a-f]{16}-v2$/);
    expect(INVOICE_ID_PATTERN.test(invoiceId('acme', 'a', '2026-10', 12))).toBe(true);
  });

  it('price every subscription of the period with a prorated flat fee (hand-computed)', () => {
    const doc = computeInvoice(computation('5', '7', '12', '99'));
    // base 10 × 16/31 = 5.1613 → 516; calls (5 − 2) × 0.05 = 15; storage 7 × 1 = 700.
    expect(
      doc.lines.map((l) => [
        (l as { chargeId: string }).chargeId,
        (l as { amountMinor: string }).amountMinor,
      ]),
    ).toEqual([
      ['base', '516'],
      ['calls', '15'],
      ['peak', '700'],
    ]);
    expect(doc).toMatchObject({
      kind: 'invoice',
      version: 1,
      totalMinor: '1231',
      cumulativeTotalMinor: '1231',
      currency: 'USD',
      lateEventCount: 0,
    });
    expect(doc.periodStart).toBe('2026-10-16T00:00:00.000Z');
  });

  it('get no adjustment when a recomputation counts exactly the same events', () => {
    const invoice = computeInvoice(computation('5', '7', '12', '99'));
    expect(computeAdjustment(invoice, invoice, computation('5', '7', '12', '99'))).toBeUndefined();
  });

  it('get a supplementary adjustment, version n+1, for late events that add usage', () => {
    const invoice = computeInvoice(computation('5', '7', '12', '99'));
    const adj = defined(computeAdjustment(invoice, invoice, computation('8', '7', '15', '123')));
    expect(adj).toMatchObject({
      kind: 'adjustment',
      version: 2,
      referencesInvoiceId: invoice.invoiceId,
      totalMinor: '15',
      cumulativeTotalMinor: '1246',
      lateEventCount: 3,
    });
    expect(adj.invoiceId).toBe(invoiceId('acme', 'a', '2026-10', 2));
    expect(adj.lines as AdjustmentLine[]).toEqual([
      expect.objectContaining({
        chargeId: 'calls',
        quantityBefore: '5',
        quantityAfter: '8',
        amountMinorBefore: '15',
        amountMinorAfter: '30',
        amountMinor: '15',
      }),
    ]);
    // The next wave is compared with the adjustment, not with the invoice.
    const next = defined(computeAdjustment(invoice, adj, computation('8', '9', '16', '456')));
    expect(next).toMatchObject({
      version: 3,
      totalMinor: '200',
      cumulativeTotalMinor: '1446',
      lateEventCount: 1,
    });
  });

  it('get a credit note when a late event lowers an amount (e.g. the latest value of a gauge)', () => {
    const invoice = computeInvoice(computation('5', '7', '12', '99'));
    const adj = defined(computeAdjustment(invoice, invoice, computation('5', '4', '13', '100')));
    expect(adj).toMatchObject({ totalMinor: '-300', cumulativeTotalMinor: '931', lateEventCount: 1 });
  });

  it('still record late events that change no amount, as a zero adjustment', () => {
    const invoice = computeInvoice(computation('1', '7', '12', '99'));
    const adj = defined(computeAdjustment(invoice, invoice, computation('2', '7', '13', '100')));
    expect(adj).toMatchObject({ totalMinor: '0', lateEventCount: 1 });
    expect(adj.lines).toEqual([
      expect.objectContaining({
        chargeId: 'calls',
        quantityBefore: '1',
        quantityAfter: '2',
        amountMinor: '0',
      }),
    ]);
  });
});
