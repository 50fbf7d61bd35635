/** Credit notes and commitments: worked examples with their hand computations. */
import {
  commitmentTrueUp,
  completeInvoice,
  computeCreditNote,
  discountInvoice,
  prepaidCommitmentGrant,
  rateTableTaxCalculator,
  creditBalance,
  drawCredits,
  type CreditEntry,
  type InvoiceTotals,
} from './index';

// An invoice in New York City: seats $100.00, API calls $45.67; 4 % state + 4.5 % city tax.
// seats: 4 % of 10000 = 400, 4.5 % = 450 → 10850. calls: 4567 × 0.04 = 182.68 → 183; × 0.045 = 205.515 → 206 → 4956.
// Total 15806 ¢.
function invoice(): InvoiceTotals {
  return completeInvoice(
    discountInvoice('USD', [
      { lineId: 'seats', chargeId: 'seats', name: 'Seats', amountMinor: '10000' },
      { lineId: 'calls', chargeId: 'calls', name: 'API calls', amountMinor: '4567' },
    ]),
    [],
    {
      profile: { jurisdiction: 'US-NY-NYC' },
      calculator: rateTableTaxCalculator([
        { id: 'ny', name: 'NY 4 %', jurisdiction: 'US-NY', percent: '4', inclusive: false },
        { id: 'nyc', name: 'NYC 4.5 %', jurisdiction: 'US-NY-NYC', percent: '4.5', inclusive: false },
      ]),
    },
  );
}

describe('credit notes (worked examples)', () => {
  it('a full credit note gives back every line with its taxes: exactly the invoice total', () => {
    const inv = invoice();
    expect(inv.totalMinor).toBe('15806');
    const note = computeCreditNote(inv.lines, [], {});
    expect(
      note.lines.map((l) => [l.lineId, l.amountMinor, l.taxes.map((t) => t.amountMinor), l.totalMinor]),
    ).toEqual([
      ['seats', '10000', ['400', '450'], '10850'],
      ['calls', '4567', ['183', '206'], '4956'],
    ]);
    expect(note.totalMinor).toBe(inv.totalMinor);
    // Nothing is left to credit afterwards.
    expect(() =>
      computeCreditNote(inv.lines, [note], { lines: [{ lineId: 'seats', amountMinor: '1' }] }),
    ).toThrow(
      expect.objectContaining({ details: [expect.objectContaining({ code: 'CREDIT_EXCEEDS_INVOICE' })] }),
    );
  });

  it('a partial credit note on one line (a $30.00 refund of seats), then the rest of that line', () => {
    // $30.00 of the $100.00 seats: state 400 × 3000 / 10000 = 120; city 450 × 0.3 = 135 → 3255 ¢ back.
    const inv = invoice();
    const first = computeCreditNote(inv.lines, [], { lines: [{ lineId: 'seats', amountMinor: '3000' }] });
    expect(first.lines).toEqual([
      {
        lineId: 'seats',
        name: 'Seats',
        amountMinor: '3000',
        taxes: [
          { rateId: 'ny', inclusive: false, amountMinor: '120' },
          { rateId: 'nyc', inclusive: false, amountMinor: '135' },
        ],
        totalMinor: '3255',
      },
    ]);
    // The rest of the line: 7000 and exactly the taxes left (400 − 120 = 280, 450 − 135 = 315): 7595. 3255 + 7595 = 10850.
    const rest = computeCreditNote(inv.lines, [first], { lines: [{ lineId: 'seats' }] });
    expect([rest.lines[0].amountMinor, rest.totalMinor]).toEqual(['7000', '7595']);
    expect(() => computeCreditNote(inv.lines, [], { lines: [{ lineId: 'nope' }] })).toThrow(
      expect.objectContaining({
        details: [expect.objectContaining({ code: 'UNKNOWN_LINE', field: 'lines[0].lineId' })],
      }),
    );
  });
});

describe('commitments (worked examples)', () => {
  it('postpaid: $1,000 over a quarter, $300 + $250 + $200 spent → true-up $250 on the last invoice', () => {
    const c = {
      id: 'q1',
      kind: 'postpaid' as const,
      currency: 'USD',
      amountMinor: '100000',
      start: '2026-01-01',
      end: '2026-04-01',
    };
    expect(commitmentTrueUp(c, ['30000', '25000', '20000'])).toEqual({
      spentMinor: '75000',
      trueUpMinor: '25000',
    });
    expect(commitmentTrueUp(c, ['60000', '50000', '20000']).trueUpMinor).toBe('0');
  });

  it('prepaid: the commitment is a grant drawn first; what is unused at the end of the term expires', () => {
    const c = {
      id: 'q1',
      kind: 'prepaid' as const,
      currency: 'USD',
      amountMinor: '100000',
      start: '2026-01-01',
      end: '2026-04-01',
    };
    let entries: CreditEntry[] = [
      { type: 'grant', grant: prepaidCommitmentGrant(c) },
      {
        type: 'grant',
        grant: { id: 'promo', currency: 'USD', amountMinor: '5000', effective: '2026-01-01' },
      },
    ];
    const r = drawCredits(
      entries,
      'USD',
      [{ from: '2026-01-01', to: '2026-02-01', amountMinor: '30000' }],
      'inv-1',
    );
    expect(r.draws.map((d) => `${d.bucketId}:${d.amountMinor}`)).toEqual(['commitment-q1:30000']);
    entries = [...entries, ...r.entries];
    // Nothing else drawn in the term: 100000 − 30000 = 70000 expires on 1 April; the promotion stays.
    const end = creditBalance(entries, 'USD', '2026-04-01');
    expect([end.expiredMinor, end.balanceMinor]).toEqual(['70000', '5000']);
  });
});
