/**
 * Worked examples of the finance steps (docs/finance.md), each with its hand computation: a finance
 * person can redo every figure with a calculator. Minor units throughout (cents, yen, fils).
 */
import {
  completeInvoice,
  creditBalance,
  creditSegmentsFromAccrual,
  discountInvoice,
  drawCredits,
  formatMinor,
  priceUsage,
  rateTableTaxCalculator,
  type Coupon,
  type CreditEntry,
  type FinanceLineInput,
  type Plan,
  type TaxRate,
} from './index';

const line = (
  lineId: string,
  amountMinor: string,
  extra: Partial<FinanceLineInput> = {},
): FinanceLineInput => ({
  lineId,
  chargeId: lineId,
  name: lineId,
  amountMinor,
  ...extra,
});

const rates: TaxRate[] = [
  { id: 'ny-state', name: 'NY State sales tax 4 %', jurisdiction: 'US-NY', percent: '4', inclusive: false },
  { id: 'nyc', name: 'NYC sales tax 4.5 %', jurisdiction: 'US-NY-NYC', percent: '4.5', inclusive: false },
  { id: 'fr-vat', name: 'TVA 20 %', jurisdiction: 'FR', percent: '20', inclusive: true },
  { id: 'fr-dst', name: 'Digital services levy 2 %', jurisdiction: 'FR', percent: '2', inclusive: false },
  { id: 'ca-gst', name: 'GST 5 %', jurisdiction: 'CA', percent: '5', inclusive: true },
  { id: 'qc-qst', name: 'QST 9.975 %', jurisdiction: 'CA-QC', percent: '9.975', inclusive: true },
  { id: 'jp-ct', name: 'Consumption tax 10 %', jurisdiction: 'JP', percent: '10', inclusive: false },
];
const taxes = rateTableTaxCalculator(rates);

describe('taxes (worked examples)', () => {
  it('two exclusive rates on one line (New York City): each on the same net, rounded per line', () => {
    // Line $123.45 = 12345 ¢. State 4 %: 12345 × 0.04 = 493.8 → 494 ¢.
    // City 4.5 %: 12345 × 0.045 = 555.525 → 556 ¢. Total 12345 + 494 + 556 = 13395 ¢ = $133.95.
    const inv = completeInvoice(discountInvoice('USD', [line('api', '12345')]), [], {
      profile: { jurisdiction: 'US-NY-NYC' },
      calculator: taxes,
    });
    expect(inv.lines[0].taxes.map((t) => [t.rateId, t.baseMinor, t.amountMinor])).toEqual([
      ['ny-state', '12345', '494'],
      ['nyc', '12345', '556'],
    ]);
    expect(inv.taxExclusiveMinor).toBe('1050');
    expect(inv.totalMinor).toBe('13395');
    expect(formatMinor(inv.totalMinor, 'USD')).toBe('133.95');
  });

  it('an inclusive and an exclusive rate on one line (France): VAT carved out, levy added on the net', () => {
    // Gross €99.99 = 9999 c, VAT 20 % included: exact net 9999 / 1.2 = 8332.5;
    // VAT = 8332.5 × 0.2 = 1666.5 → 1666 (half-even: to the even cent); net shown 9999 − 1666 = 8333.
    // Levy 2 % on the net: 8333 × 0.02 = 166.66 → 167. Total 9999 + 167 = 10166 c = €101.66.
    const inv = completeInvoice(discountInvoice('EUR', [line('seats', '9999')]), [], {
      profile: { jurisdiction: 'FR' },
      calculator: taxes,
    });
    const l = inv.lines[0];
    expect(l.taxes.map((t) => [t.rateId, t.inclusive, t.baseMinor, t.amountMinor])).toEqual([
      ['fr-vat', true, '8333', '1666'],
      ['fr-dst', false, '8333', '167'],
    ]);
    expect([l.netMinor, l.totalMinor]).toEqual(['8333', '10166']);
    expect([inv.taxInclusiveMinor, inv.taxExclusiveMinor, inv.totalMinor]).toEqual(['1666', '167', '10166']);
  });

  it('two inclusive rates (Québec): both carved out of the same gross, never compounded', () => {
    // Gross CA$1,149.75 = 114975 ¢ with GST 5 % and QST 9.975 % included: net = 114975 / 1.14975 = 100000;
    // GST 100000 × 0.05 = 5000, QST 100000 × 0.09975 = 9975; the total stays the gross, 114975.
    const inv = completeInvoice(discountInvoice('CAD', [line('plan', '114975')]), [], {
      profile: { jurisdiction: 'CA-QC' },
      calculator: taxes,
    });
    expect(inv.lines[0].taxes.map((t) => t.amountMinor)).toEqual(['5000', '9975']);
    expect([inv.lines[0].netMinor, inv.totalMinor, inv.taxInclusiveMinor]).toEqual([
      '100000',
      '114975',
      '14975',
    ]);
  });

  it('exemptions: a whole customer, or one rate', () => {
    const exempt = completeInvoice(discountInvoice('USD', [line('api', '12345')]), [], {
      profile: { jurisdiction: 'US-NY-NYC', exempt: true },
      calculator: taxes,
    });
    expect([exempt.lines[0].taxes, exempt.totalMinor]).toEqual([[], '12345']);
    const cityOnlyExempt = completeInvoice(discountInvoice('USD', [line('api', '12345')]), [], {
      profile: { jurisdiction: 'US-NY-NYC', exemptRates: ['nyc'] },
      calculator: taxes,
    });
    expect(cityOnlyExempt.totalMinor).toBe('12839'); // 12345 + 494
  });
});

describe('currencies (worked examples)', () => {
  it('a JPY invoice: yen have no minor unit, every rounding is to the yen', () => {
    // 12,345 calls × ¥0.5 = ¥6172.5 → ¥6172 (half-even); monthly fee ¥3,000.
    // Consumption tax 10 %: 6172 × 0.1 = 617.2 → 617; 3000 × 0.1 = 300. Total 6172 + 3000 + 617 + 300 = ¥10,089.
    const plan: Plan = {
      id: 'jp',
      currency: 'JPY',
      charges: [
        { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.5' },
        { id: 'fee', name: 'Monthly fee', kind: 'flat', amount: '3000' },
      ],
    };
    const priced = priceUsage({
      plan,
      usage: { calls: '12345' },
      period: { daysInPeriod: 30, activeDays: 30 },
    });
    expect(priced.lines.map((l) => l.amountMinor)).toEqual(['6172', '3000']);
    const inv = completeInvoice(
      discountInvoice(
        'JPY',
        priced.lines.map((l) => line(l.chargeId, l.amountMinor)),
      ),
      [],
      { profile: { jurisdiction: 'JP' }, calculator: taxes },
    );
    expect(inv.taxExclusiveMinor).toBe('917');
    expect(inv.totalMinor).toBe('10089');
    expect(formatMinor(inv.totalMinor, 'JPY')).toBe('10089');
  });

  it('a KWD invoice: three decimals (fils), a percentage coupon rounded per line to the fils', () => {
    // Monthly fee KWD 12.500 = 12500 fils; 1,234 calls × KWD 0.0035 = 4.319 = 4319 fils.
    // Coupon 10 %: 12500 × 0.1 = 1250; 4319 × 0.1 = 431.9 → 432. Total 12500 + 4319 − 1682 = 15137 fils = KWD 15.137.
    const plan: Plan = {
      id: 'kw',
      currency: 'KWD',
      charges: [
        { id: 'fee', name: 'Monthly fee', kind: 'flat', amount: '12.5' },
        { id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.0035' },
      ],
    };
    const priced = priceUsage({
      plan,
      usage: { calls: '1234' },
      period: { daysInPeriod: 31, activeDays: 31 },
    });
    const coupon: Coupon = {
      id: 'welcome',
      name: 'Welcome 10 %',
      kind: 'percentage',
      percent: '10',
      duration: 'forever',
    };
    const inv = completeInvoice(
      discountInvoice(
        'KWD',
        priced.lines.map((l) => line(l.chargeId, l.amountMinor)),
        [{ coupon, periodIndex: 0 }],
      ),
      [],
      undefined,
    );
    expect(inv.lines.map((l) => l.discountMinor)).toEqual(['1250', '432']);
    expect(inv.totalMinor).toBe('15137');
    expect(formatMinor(inv.totalMinor, 'KWD')).toBe('15.137');
  });
});

describe('discounts (worked examples)', () => {
  it('a coupon repeating 3 periods with a $100 minimum: the minimum first, then 20 % off, for periods 1-3 only', () => {
    const plan: Plan = {
      id: 'scale',
      currency: 'USD',
      minimumCommitment: '100',
      charges: [{ id: 'calls', name: 'API calls', kind: 'per_unit', meter: 'calls', unitPrice: '0.01' }],
    };
    const coupon: Coupon = {
      id: 'launch',
      name: 'Launch 20 %',
      kind: 'percentage',
      percent: '20',
      duration: 'repeating',
      periods: 3,
    };
    const invoiceOf = (calls: string, periodIndex: number) => {
      const priced = priceUsage({ plan, usage: { calls }, period: { daysInPeriod: 30, activeDays: 30 } });
      return completeInvoice(
        discountInvoice(
          'USD',
          priced.lines.map((l) => line(l.chargeId, l.amountMinor)),
          [{ coupon, periodIndex }],
        ),
        [],
        undefined,
      );
    };
    // Period 1: 6,000 calls = $60.00; true-up to the minimum $40.00; 20 % of each line: 1200 + 800 = $20.00 off → $80.00.
    const p1 = invoiceOf('6000', 0);
    expect(p1.lines.map((l) => [l.chargeId, l.amountMinor, l.discountMinor])).toEqual([
      ['calls', '6000', '1200'],
      ['minimum_true_up', '4000', '800'],
    ]);
    expect(p1.totalMinor).toBe('8000');
    // Period 2: 15,000 calls = $150.00 (above the minimum, no true-up); 20 % = $30.00 → $120.00.
    expect(invoiceOf('15000', 1).totalMinor).toBe('12000');
    // Period 3: nothing used: true-up $100.00, 20 % → $80.00.
    expect(invoiceOf('0', 2).totalMinor).toBe('8000');
    // Period 4: the coupon has run out: the minimum, $100.00.
    const p4 = invoiceOf('6000', 3);
    expect([p4.discountMinor, p4.totalMinor]).toEqual(['0', '10000']);
  });

  it("an amount coupon on one plan's lines, then a percentage on what is left", () => {
    // Lines: seats $50.00 (plan pro), calls $30.00 (plan pro), support $20.00 (plan addon).
    // $10 off plan pro, spread 50:30 → 625 + 375; then 10 % off everything left: 4375 → 437.5 → 438 (half-even to even 438),
    // 2625 → 262.5 → 262, 2000 → 200. Discounts 1000 + 900 = $19.00 → total $81.00.
    const tenOff: Coupon = {
      id: 'ten',
      name: '$10 off Pro',
      kind: 'amount',
      amount: '10',
      currency: 'USD',
      duration: 'once',
      appliesTo: { plans: ['pro'] },
    };
    const pct: Coupon = { id: 'pct', name: '10 %', kind: 'percentage', percent: '10', duration: 'forever' };
    const inv = completeInvoice(
      discountInvoice(
        'USD',
        [
          line('seats', '5000', { plan: 'pro' }),
          line('calls', '3000', { plan: 'pro' }),
          line('support', '2000', { plan: 'addon' }),
        ],
        [
          { coupon: tenOff, periodIndex: 0 },
          { coupon: pct, periodIndex: 0 },
        ],
      ),
      [],
      undefined,
    );
    expect(inv.lines.map((l) => l.discounts)).toEqual([
      [
        { couponId: 'ten', amountMinor: '625' },
        { couponId: 'pct', amountMinor: '438' },
      ],
      [
        { couponId: 'ten', amountMinor: '375' },
        { couponId: 'pct', amountMinor: '262' },
      ],
      [{ couponId: 'pct', amountMinor: '200' }],
    ]);
    expect(inv.discounts).toEqual([
      { couponId: 'ten', name: '$10 off Pro', amountMinor: '1000' },
      { couponId: 'pct', name: '10 %', amountMinor: '900' },
    ]);
    expect(inv.totalMinor).toBe('8100');
  });
});

describe('prepaid credits (worked examples)', () => {
  it('a grant that expires mid-period pays only for the usage before its expiry', () => {
    // Grant $50.00 usable 2026-02-15 up to (not on) 2026-03-16. March: 300 calls on 1-15 March, 400 calls on 16-31
    // March, at $0.10: $30.00 accrued before the expiry, $40.00 after. Credit pays the $30.00 of the first
    // segment; $20.00 expires on 16 March; the customer pays $40.00.
    const entries: CreditEntry[] = [
      {
        type: 'grant',
        grant: {
          id: 'g1',
          currency: 'USD',
          amountMinor: '5000',
          effective: '2026-02-15',
          expires: '2026-03-16',
        },
      },
    ];
    const segments = creditSegmentsFromAccrual('7000', [
      { from: '2026-03-01', to: '2026-03-16', accruedMinor: '3000' },
      { from: '2026-03-16', to: '2026-04-01', accruedMinor: '4000' },
    ]);
    const { draws, entries: drawn } = drawCredits(entries, 'USD', segments, 'inv-2026-03');
    expect(draws.map((d) => [d.bucketId, d.date, d.amountMinor])).toEqual([['g1', '2026-03-01', '3000']]);
    const inv = completeInvoice(discountInvoice('USD', [line('calls', '7000')]), draws, undefined);
    expect([inv.creditMinor, inv.totalMinor]).toEqual(['3000', '4000']);
    const after = creditBalance([...entries, ...drawn], 'USD', '2026-04-01');
    expect(after.log.map((l) => [l.type, l.date, l.amountMinor])).toEqual([
      ['grant', '2026-02-15', '5000'],
      ['draw', '2026-03-01', '3000'],
      ['expiry', '2026-03-16', '2000'],
    ]);
    expect(after.balanceMinor).toBe('0');
    expect(creditBalance([...entries, ...drawn], 'USD', '2026-03-15').balanceMinor).toBe('2000');
  });

  it('a recurring monthly grant with rollover (at most $5.00 carried one month)', () => {
    // $10.00 every month from 1 January, unused rest rolls over, at most $5.00, usable one more month.
    // Jan: usage $6.00 → draw 600 from #0; 400 left → rolls over (≤ 500).
    // Feb: rollover 400 drawn first (same priority, same expiry, older bucket), then 800 of #1 for usage $12.00; 200 rolls over.
    // Mar: usage $1.00 from the rollover; at 1 April 100 of it expires (a rollover does not roll again),
    //      #2 keeps 1000 of which 500 rolls over and 500 expires.
    // 1 April: #3 (1000) + rollover 500 = $15.00.
    // Check: grants 4 × 1000 + 400 + 200 + 500 = 5100; draws 600 + 1200 + 100 = 1900;
    //        expiries 400 + 200 + 100 + 1000 = 1700 (each expiry's rest, the rolled part re-granted); 5100 − 1900 − 1700 = 1500.
    let entries: CreditEntry[] = [
      {
        type: 'grant',
        grant: {
          id: 'monthly',
          currency: 'USD',
          amountMinor: '1000',
          effective: '2026-01-01',
          recurrence: { everyMonths: 1 },
          rollover: { maxMinor: '500' },
        },
      },
    ];
    const months: Array<[string, string, string]> = [
      ['2026-01-01', '2026-02-01', '600'],
      ['2026-02-01', '2026-03-01', '1200'],
      ['2026-03-01', '2026-04-01', '100'],
    ];
    const drawnPerMonth: string[][] = [];
    for (const [from, to, usage] of months) {
      const r = drawCredits(entries, 'USD', [{ from, to, amountMinor: usage }], `inv-${from}`);
      drawnPerMonth.push(r.draws.map((d) => `${d.bucketId}:${d.amountMinor}`));
      entries = [...entries, ...r.entries];
    }
    expect(drawnPerMonth).toEqual([
      ['monthly#0:600'],
      ['monthly#0:rollover:400', 'monthly#1:800'],
      ['monthly#1:rollover:100'],
    ]);
    const b = creditBalance(entries, 'USD', '2026-04-01');
    expect(b.buckets.map((x) => [x.bucketId, x.remainingMinor, x.expires])).toEqual([
      ['monthly#2:rollover', '500', '2026-05-01'],
      ['monthly#3', '1000', '2026-05-01'],
    ]);
    expect([b.balanceMinor, b.grantedMinor, b.drawnMinor, b.expiredMinor]).toEqual([
      '1500',
      '5100',
      '1900',
      '1700',
    ]);
  });

  it('credit is drawn by priority, then earliest expiry; a void takes the rest from its date, never edits', () => {
    const entries: CreditEntry[] = [
      {
        type: 'grant',
        grant: {
          id: 'promo',
          currency: 'USD',
          amountMinor: '1000',
          priority: 1,
          effective: '2026-01-01',
          expires: '2026-12-01',
        },
      },
      {
        type: 'grant',
        grant: {
          id: 'paid',
          currency: 'USD',
          amountMinor: '5000',
          priority: 5,
          effective: '2026-01-01',
          source: 'purchase',
        },
      },
      {
        type: 'grant',
        grant: {
          id: 'soon',
          currency: 'USD',
          amountMinor: '300',
          priority: 5,
          effective: '2026-01-01',
          expires: '2026-06-01',
        },
      },
    ];
    const r = drawCredits(
      entries,
      'USD',
      [{ from: '2026-01-01', to: '2026-02-01', amountMinor: '1500' }],
      'inv-1',
    );
    // promo (priority 1) 1000, then soon (priority 5, expires first) 300, then paid 200.
    expect(r.draws.map((d) => `${d.bucketId}:${d.amountMinor}`)).toEqual([
      'promo:1000',
      'soon:300',
      'paid:200',
    ]);
    const voided = [
      ...entries,
      ...r.entries,
      { type: 'void' as const, id: 'v1', grantId: 'paid', date: '2026-02-10' },
    ];
    expect(creditBalance(voided, 'USD', '2026-02-09').balanceMinor).toBe('4800');
    const b = creditBalance(voided, 'USD', '2026-02-10');
    expect([b.balanceMinor, b.voidedMinor]).toEqual(['0', '4800']);
    // Invoices draw in period order: drawing for December after January's draw is refused, not re-ordered.
    expect(() =>
      drawCredits(
        entries.concat(r.entries),
        'USD',
        [{ from: '2025-12-01', to: '2026-01-01', amountMinor: '1' }],
        'inv-0',
      ),
    ).toThrow(/period order/);
  });
});
