import { computeAdjustment, computeInvoice, decideInterim, pricePeriod } from '@tally/billing';
import { escapeHtml, renderInvoiceHtml } from './invoice-html';
import { customerPeriod } from '@tally/billing-periods';

/** The value, or a test failure naming what was missing. */
function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}

const evil = `<script>alert("x")</script>&'`;
const share = defined(customerPeriod([{ id: evil, plan: 'p', start: '2026-01-01' }], '2026-10', 'UTC'));
const computation = (calls: string, count: string) => ({
  tenant: 'acme',
  customer: evil,
  period: share,
  pricing: {
    subscriptions: share.subscriptions,
    plans: {
      p: {
        id: 'p',
        currency: 'EUR',
        charges: [{ id: 'c', name: evil, kind: 'per_unit' as const, meter: 'calls', unitPrice: '1' }],
      },
    },
    meterVersions: { calls: 1 },
  },
  usage: { [evil]: { calls: { total: calls, days: [] } } },
  fingerprint: { eventCount: count, checksum: '1' },
  issuedBy: 'w',
  createdAt: '2026-11-01T00:00:00.000Z',
});

describe('invoice HTML', () => {
  it('escapes every value', () => {
    expect(escapeHtml(evil)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    const html = renderInvoiceHtml(computeInvoice(computation('3', '3')));
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    expect(html).toContain('3.00 EUR');
  });

  it('titles an adjustment that lowers the amount a credit note, linking the invoice', () => {
    const invoice = computeInvoice(computation('3', '3'));
    const html = renderInvoiceHtml(defined(computeAdjustment(invoice, invoice, computation('1', '4'))));
    expect(html).toContain('<title>Credit note adj-2026-10-');
    expect(html).toContain(`href="${invoice.invoiceId}.html"`);
    expect(html).toContain('-2.00 EUR');
  });

  it('names an interim invoice and the threshold it was issued at', () => {
    const c = computation('12', '12');
    const plans = { p: { ...c.pricing.plans.p, progressiveBilling: { repeatEvery: '5' } } };
    const pricing = { ...c.pricing, plans };
    const decision = decideInterim({
      ...c,
      pricing,
      priced: pricePeriod({ period: c.period, pricing, usage: c.usage }),
      previous: [],
    });
    const html = renderInvoiceHtml(defined(decision?.issue));
    expect(html).toContain('<h1>Interim invoice int-2026-10-');
    expect(html).toContain('<b>12.00 EUR</b>,\nreached the threshold of 10.00 EUR');
  });
});

describe('invoice HTML: discounts, credits, taxes and usage per day', () => {
  it('shows each finance step and each day, escaped, with the amount due after interim invoices', () => {
    const c = computation('1200', '1200');
    const doc = computeInvoice({
      ...c,
      usage: {
        [evil]: {
          calls: {
            total: '1200',
            days: [
              { day: '2026-10-02', value: '200' },
              { day: '2026-10-09', value: '1000' },
            ],
          },
        },
      },
      pricing: {
        ...c.pricing,
        finance: {
          coupons: [
            {
              couponId: 'c1',
              name: evil,
              kind: 'percentage',
              percent: '50',
              duration: 'once',
              periodIndex: 0,
            },
          ],
          taxProfile: { jurisdiction: 'X' },
          taxRates: [{ id: 't', name: 'VAT', jurisdiction: 'X', percent: '10', inclusive: false }],
        },
      },
      credits: [
        { type: 'grant', grant: { id: 'g', currency: 'EUR', amountMinor: '10000', effective: '2026-10-01' } },
      ],
    });
    const html = renderInvoiceHtml(doc);
    expect(html).not.toContain('<script>');
    // 1,200 × 1 = 1,200.00; half off = 600.00; credit 100.00; 10 % of 500.00 = 50.00; total 550.00.
    expect(html).toContain('<td>Discount: &lt;script&gt;');
    expect(html).toContain('-600.00 EUR');
    expect(html).toContain('<td>Credit: g</td>');
    expect(html).toContain('-100.00 EUR');
    expect(html).toContain('10 % of 500.00 EUR');
    expect(html).toContain('<tr><td colspan="2">Total</td><td class="n">550.00 EUR</td></tr>');
    expect(html).toContain('<tr><td>2026-10-09</td><td class="n">1000</td></tr>');
  });
});

describe('invoice HTML: unit grants', () => {
  it('shows the granted units on the line and each draw in the finance section', () => {
    const c = computation('1200', '1200');
    const doc = computeInvoice({
      ...c,
      usage: {
        [evil]: {
          calls: {
            total: '1200',
            days: [
              { day: '2026-10-02', value: '200' },
              { day: '2026-10-09', value: '1000' },
            ],
          },
        },
      },
      pricing: { ...c.pricing, finance: { coupons: [], taxProfile: {}, taxRates: [] } },
      unitLedger: {
        grants: [{ id: 'free300', meter: 'calls', units: '300', effective: '2026-10-01' }],
        draws: [],
      },
    });
    // 1,200 calls − 300 granted (200 of 2 October, 100 of 9 October) = 900 × 1 = 900.00.
    expect(doc.totalMinor).toBe('90000');
    const html = renderInvoiceHtml(doc);
    expect(html).toContain('<span class="nowrap">300 granted</span>, 900 billable');
    expect(html).toContain(
      '<td>Units granted: free300</td><td class="small">300 calls, usage from 2026-10-02</td>',
    );
    expect(html).toContain('<tr><td colspan="2">Total</td><td class="n">900.00 EUR</td></tr>');
  });
});
