import { computeInvoice } from '../invoices/invoice';
import { serializeInvoiceRow } from './invoice-rows';
import { customerPeriod } from '@tally/billing-periods';

/** The value, or a test failure naming what was missing. */
function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}

describe('serializeInvoiceRow', () => {
  const share = defined(customerPeriod([{ id: 's', plan: 'p', start: '2026-01-01' }], '2026-10', 'UTC'));
  const doc = computeInvoice({
    tenant: 'acme',
    customer: 'a',
    period: share,
    pricing: {
      subscriptions: share.subscriptions,
      plans: {
        p: {
          id: 'p',
          currency: 'USD',
          charges: [{ id: 'f', name: 'Fee', kind: 'flat', amount: '123456789012345678901234.56' }],
        },
      },
      meterVersions: {},
    },
    usage: {},
    fingerprint: { eventCount: '3', checksum: '18446744073709551615' },
    issuedBy: 'w',
    createdAt: '2026-11-01T00:00:00.000Z',
  });

  it('writes money and the fingerprint as bare digits (no float, no quotes) and the rest as JSON', () => {
    const line = serializeInvoiceRow(doc);
    expect(
      line.startsWith(
        '{"subtotal_minor":12345678901234567890123456,"total_minor":12345678901234567890123456,"cumulative_total_minor":12345678901234567890123456,"usage_event_count":3,"usage_checksum":18446744073709551615,"tenant":"acme"',
      ),
    ).toBe(true);
    expect(JSON.parse(line.replace(/:(\d{16,})/g, ':"$1"'))).toMatchObject({
      period: '2026-10',
      kind: 'invoice',
      version: 1,
      period_start: Date.UTC(2026, 9, 1) / 1000,
    });
  });

  it('refuses an amount that is not an integer string', () => {
    expect(() => serializeInvoiceRow({ ...doc, totalMinor: '1.5' })).toThrow(/integer/);
    expect(() => serializeInvoiceRow({ ...doc, totalMinor: '1e3' })).toThrow(/integer/);
  });
});
