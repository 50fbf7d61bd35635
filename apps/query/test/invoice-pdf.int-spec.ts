/**
 * Invoice PDFs on the real query service, ClickHouse ledger and Debian's Chromium: a period-end invoice
 * with a fee, graduated tiers, usage on three days, a coupon, a credit grant, a tax and an interim invoice
 * deducted; the interim invoice itself; a credit note issued over HTTP. Each PDF is fetched as a client
 * would (`.pdf`, `Accept: application/pdf`), its text read back with `pdftotext` and its first page
 * rendered with `pdftoppm -png`: an A4 page with ink on it. A query service without Chromium answers 503
 * PDF_RENDERER_UNAVAILABLE and still serves JSON.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  computeInvoice,
  decideInterim,
  InvoiceLedger,
  pricePeriod,
  type InvoiceComputation,
  type InvoiceDocument,
} from '@tally/billing';
import { customerPeriod } from '@tally/billing-periods';
import { formatMinor } from '@tally/pricing';
import { decodePng, inkShare } from '@tally/testing';
import { QueryHarness } from './query-harness';

const run = promisify(execFile);
const usd = (minor: string) => `${formatMinor(minor, 'USD')} USD`;

function computation(): InvoiceComputation {
  const period = customerPeriod([{ id: 'sub_1', plan: 'scale', start: '2026-10-01' }], '2026-10', 'UTC');
  if (!period) throw new Error('no period');
  return {
    tenant: 'acme',
    customer: 'acct_7',
    period,
    pricing: {
      subscriptions: period.subscriptions,
      plans: {
        scale: {
          id: 'scale',
          currency: 'USD',
          progressiveBilling: { thresholds: ['40'] },
          charges: [
            { id: 'platform', name: 'Platform fee', kind: 'flat', amount: '49' },
            {
              id: 'calls',
              name: 'API calls',
              kind: 'graduated',
              meter: 'api_calls',
              tiers: [
                { upTo: '100', unitPrice: '0' },
                { upTo: '1000', unitPrice: '0.01' },
                { upTo: null, unitPrice: '0.005' },
              ],
            },
          ],
        },
      },
      meterVersions: { api_calls: 1 },
      finance: {
        coupons: [
          {
            couponId: 'launch',
            name: 'Launch 10 %',
            kind: 'percentage',
            percent: '10',
            duration: 'once',
            periodIndex: 0,
          },
        ],
        taxProfile: { jurisdiction: 'US-NY' },
        taxRates: [
          { id: 'ny', name: 'NY sales tax 4 %', jurisdiction: 'US-NY', percent: '4', inclusive: false },
        ],
      },
    },
    credits: [
      {
        type: 'grant',
        grant: { id: 'welcome', currency: 'USD', amountMinor: '1000', effective: '2026-10-01' },
      },
    ],
    // 9,300 calls: 100 free, 900 × $0.01 = $9.00, 8,300 × $0.005 = $41.50.
    usage: {
      sub_1: {
        api_calls: {
          total: '9300',
          days: [
            { day: '2026-10-03', value: '700' },
            { day: '2026-10-14', value: '1300' },
            { day: '2026-10-27', value: '7300' },
          ],
        },
      },
    },
    fingerprint: { eventCount: '9300', checksum: '77' },
    issuedBy: 'test',
    createdAt: '2026-11-01T00:05:00.000Z',
  };
}

/** The interim invoice of 14 October (fee + 2,000 calls = $49 + $14.00 reached the $40 threshold) and the period's invoice. */
function documents(): { interim: InvoiceDocument; invoice: InvoiceDocument } {
  const c = computation();
  const usage = { sub_1: { api_calls: { total: '2000', days: c.usage.sub_1.api_calls.days.slice(0, 2) } } };
  const decision = decideInterim({
    ...c,
    usage,
    priced: pricePeriod({ period: c.period, pricing: c.pricing, usage }),
    previous: [],
    createdAt: '2026-10-14T12:00:00.000Z',
  });
  if (!decision?.issue) throw new Error('no interim invoice');
  return { interim: decision.issue, invoice: computeInvoice({ ...c, interims: [decision.issue] }) };
}

describe('query service: invoice PDFs printed by Chromium', () => {
  const h = new QueryHarness();
  let keys: Awaited<ReturnType<QueryHarness['tenant']>>;
  let dir: string;
  const { interim, invoice } = documents();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'invoice-pdf-'));
    await h.start();
    keys = await h.tenant('acme');
    await new InvoiceLedger(h.db.client).insert([interim, invoice]);
  }, 120_000);
  afterAll(async () => {
    await h.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function pdf(pathname: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${h.url}${pathname}`, {
      headers: { authorization: `Bearer ${keys.query}`, ...headers },
    });
    const body = Buffer.from(await response.arrayBuffer());
    expect([response.status, response.headers.get('content-type')]).toEqual([200, 'application/pdf']);
    expect(body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    return body;
  }

  /**
   * The PDF's text as `pdftotext -layout` lays it out: `rows`, each line with its spaces collapsed (a
   * table row's cells side by side), and `flat`, all of it on one line (paragraphs that wrap).
   */
  async function text(body: Buffer, name: string): Promise<{ flat: string; row: (start: string) => string }> {
    const file = path.join(dir, `${name}.pdf`);
    await writeFile(file, body);
    const { stdout } = await run('pdftotext', ['-layout', file, '-']);
    const rows = stdout.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
    return {
      flat: stdout.replace(/\s+/g, ' '),
      row: (start) => rows.find((r) => r.startsWith(start)) ?? `(no line starts with '${start}')`,
    };
  }

  it('prints the invoice: lines, tiers, daily usage, discount, credit, tax, interim deduction and totals', async () => {
    const { flat, row } = await text(await pdf(`/v1/invoices/${invoice.invoiceId}.pdf`), 'invoice');
    expect(flat).toContain(`Invoice ${invoice.invoiceId} Customer acct_7 · period 2026-10`);
    // Lines: charge, quantity, tiers, amount (a cell's further lines are on the next rows).
    expect(row('Platform fee')).toBe('Platform fee 1 49.00 USD');
    expect(row('API calls')).toBe('API calls 9300 tier 1: 100 × 0 = 0 50.50 USD');
    expect(row('sub_1 · api_calls')).toBe('sub_1 · api_calls tier 2: 900 × 0.01 = 9');
    expect(row('tier 3')).toBe('tier 3: 8300 × 0.005 = 41.5');
    expect(row('Billed on interim invoice')).toBe('Billed on interim invoice int-2026-10- 1 -63.00 USD');
    // The interim invoice's id is whole across the break at its hyphen.
    expect(flat.replace(/\s/g, '')).toContain(interim.invoiceId.slice('int-2026-10-'.length) + '(2026-10-14');
    // Discounts, credits and taxes, then the totals. By hand: lines 99.50, coupon 10 % 9.95, credit 10.00,
    // tax 4 % of 79.55 = 3.18 (per line 1.57 + 1.61); the period 82.73, of which the interim invoice billed 63.00.
    expect(row('Lines')).toBe('Lines 99.50 USD');
    expect(row('Discount:')).toBe('Discount: Launch 10 % coupon launch -9.95 USD');
    expect(row('Credit:')).toBe(
      'Credit: welcome grant welcome, usage of 2026-10-01 to 2026-11-01 -10.00 USD',
    );
    expect(row('Tax:')).toBe('Tax: NY sales tax 4 % 4 % of 79.55 USD 3.18 USD');
    expect(row('Total of the period')).toBe('Total of the period 82.73 USD');
    expect(row('Billed on interim invoices')).toBe('Billed on interim invoices -63.00 USD');
    expect(row('Amount due')).toBe('Amount due 19.73 USD');
    expect([invoice.finance?.totalMinor, interim.totalMinor, invoice.totalMinor]).toEqual([
      '8273',
      '6300',
      '1973',
    ]);
    // Usage per day, in the customer's zone.
    expect(['2026-10-03', '2026-10-14', '2026-10-27', 'Period'].map(row)).toEqual([
      '2026-10-03 700',
      '2026-10-14 1300',
      '2026-10-27 7300',
      'Period 9300',
    ]);
  });

  it('renders page 1 as an A4 image with ink on it', async () => {
    const file = path.join(dir, 'page.pdf');
    await writeFile(file, await pdf(`/v1/invoices/${invoice.invoiceId}`, { accept: 'application/pdf' }));
    await run('pdftoppm', [
      '-png',
      '-r',
      '72',
      '-f',
      '1',
      '-l',
      '1',
      '-singlefile',
      file,
      path.join(dir, 'page'),
    ]);
    const png = decodePng(await readFile(path.join(dir, 'page.png')));
    // A4 is 595.3 × 841.9 points: 595 × 842 pixels at 72 dpi.
    expect([png.width, png.height]).toEqual([595, 842]);
    const ink = inkShare(png);
    expect(ink).toBeGreaterThan(0.005);
    expect(ink).toBeLessThan(0.3);
  });

  it('labels the interim invoice as such, with its threshold', async () => {
    const { flat, row } = await text(await pdf(`/v1/invoices/${interim.invoiceId}.pdf`), 'interim');
    expect(row('Interim invoice')).toBe(`Interim invoice ${interim.invoiceId}`);
    expect(flat).toContain("the period's accrued amount, 63.00 USD, reached the threshold of 40.00 USD.");
    expect(row('Total')).toBe('Total 63.00 USD');
  });

  it('prints a credit note issued over HTTP', async () => {
    const issued = await h.request('POST', `/v1/invoices/${invoice.invoiceId}/credit-notes`, {
      key: keys.admin,
      body: { reason: 'outage on 12 October', lines: [{ lineId: 'sub_1/platform', amountMinor: '1000' }] },
    });
    expect(issued.status).toBe(201);
    const { flat, row } = await text(
      await pdf(`/v1/invoices/${issued.body.invoiceId}?format=pdf`),
      'credit-note',
    );
    expect(row('Credit note')).toBe(`Credit note ${issued.body.creditNoteNumber}`);
    expect(flat).toContain('Reason: outage on 12 October.');
    expect(row('Platform fee')).toContain('10.00 USD');
    expect(row('Change')).toBe(`Change ${usd(issued.body.totalMinor)}`);
  });

  it('answers 404 for an unknown invoice, 400 for a contradicting format, 401 without a key', async () => {
    const get = (p: string, key?: string) => h.request('GET', p, key ? { key } : {});
    expect((await get('/v1/invoices/inv-2026-10-0000000000000000-v1.pdf', keys.query)).status).toBe(404);
    const both = await get(`/v1/invoices/${invoice.invoiceId}.pdf?format=html`, keys.query);
    expect([both.status, both.body.error.code]).toEqual([400, 'INVALID_FORMAT']);
    expect((await get(`/v1/invoices/${invoice.invoiceId}.pdf`)).status).toBe(401);
  });
});

describe('query service: invoice PDFs without Chromium', () => {
  const h = new QueryHarness();

  afterAll(async () => {
    await h.stop();
  });

  it('answers 503 PDF_RENDERER_UNAVAILABLE with a Retry-After, and still serves JSON', async () => {
    await h.start({ INVOICE_PDF_CHROMIUM: '/nonexistent/chromium' });
    const keys = await h.tenant('acme');
    const { invoice } = documents();
    await new InvoiceLedger(h.db.client).insert([invoice]);
    const pdf = await h.request('GET', `/v1/invoices/${invoice.invoiceId}.pdf`, { key: keys.query });
    expect([pdf.status, pdf.body.error.code, pdf.headers.get('retry-after')]).toEqual([
      503,
      'PDF_RENDERER_UNAVAILABLE',
      '60',
    ]);
    const json = await h.request('GET', `/v1/invoices/${invoice.invoiceId}`, { key: keys.query });
    expect([json.status, json.body.totalMinor]).toEqual([200, invoice.totalMinor]);
  }, 120_000);
});
