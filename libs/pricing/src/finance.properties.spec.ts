/**
 * Properties of the finance steps (fast-check): the credit ledger's identity at every date, and an
 * invoice's total as the sum of its parts, for any lines, coupons, credit and taxes.
 */
import fc from 'fast-check';
import {
  addMonthsToDate,
  completeInvoice,
  creditBalance,
  creditGrantTimers,
  discountInvoice,
  drawCredits,
  rateTableTaxCalculator,
  type Coupon,
  type CreditEntry,
  type CreditGrant,
  type TaxRate,
} from './index';

const day = fc
  .integer({ min: 0, max: 27 })
  .map((d) => `2026-${String(1 + (d % 6)).padStart(2, '0')}-${String(1 + d).padStart(2, '0')}`);
const minor = (max: number) => fc.integer({ min: 0, max }).map(String);

const grant = (i: number) =>
  fc
    .record({
      amountMinor: minor(50_000),
      priority: fc.integer({ min: 0, max: 3 }),
      effective: day,
      expiresAfterDays: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
      recurring: fc.boolean(),
      rollover: fc.option(fc.option(minor(20_000), { nil: undefined }), { nil: null }),
    })
    .map((g): CreditGrant => {
      const expires =
        g.expiresAfterDays === undefined
          ? undefined
          : addMonthsToDate(g.effective, Math.ceil(g.expiresAfterDays / 30));
      return {
        id: `g${i}`,
        currency: 'USD',
        amountMinor: g.amountMinor,
        priority: g.priority,
        effective: g.effective,
        ...(expires !== undefined ? { expires } : {}),
        ...(g.recurring ? { recurrence: { everyMonths: 1 } } : {}),
        ...(g.recurring && g.rollover !== null
          ? { rollover: g.rollover === undefined ? {} : { maxMinor: g.rollover } }
          : {}),
      };
    });

const ledger = fc
  .tuple(
    fc
      .array(fc.nat(), { minLength: 1, maxLength: 4 })
      .chain((ids) => fc.tuple(...ids.map((_, i) => grant(i)))),
    fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 8 }), minor(40_000)), {
      maxLength: 8,
      selector: (u) => u[0],
    }),
    fc.option(fc.tuple(fc.integer({ min: 0, max: 3 }), day), { nil: undefined }),
  )
  .map(([grants, usage, voidOf]) => ({ grants, usage, voidOf }));

const monthStart = (k: number) => addMonthsToDate('2026-01-01', k);

describe('credit ledger (property)', () => {
  it('balance = grants − draws − voids − expiries at every date, never negative, draws never exceed usage, timer records change nothing', () => {
    fc.assert(
      fc.property(ledger, ({ grants, usage, voidOf }) => {
        let entries: CreditEntry[] = grants.map((g) => ({ type: 'grant' as const, grant: g }));
        if (voidOf && voidOf[0] < grants.length)
          entries.push({ type: 'void', id: 'v', grantId: grants[voidOf[0]].id, date: voidOf[1] });
        // Each grant's timer wakes on `date` and appends what came (as creditGrantWorkflow does).
        const wake = (date: string) => {
          const have = new Set(entries.map((e) => (e.type === 'grant' ? e.grant.id : e.id)));
          for (const g of grants)
            for (const d of creditGrantTimers(entries, g.id, date).due)
              if (!have.has(d.entryId))
                entries.push({
                  type: d.kind,
                  id: d.entryId,
                  grantId: g.id,
                  bucketId: d.bucketId,
                  date: d.date,
                });
        };
        // Monthly invoices in order, each drawing what its usage allows (split at mid-month), written
        // after the month's timers fired.
        for (const [k, amount] of [...usage].sort((a, b) => a[0] - b[0])) {
          wake(monthStart(k + 1));
          const from = monthStart(k);
          const mid = `${from.slice(0, 8)}15`;
          const to = monthStart(k + 1);
          const half = String(Math.floor(Number(amount) / 2));
          const r = drawCredits(
            entries,
            'USD',
            [
              { from, to: mid, amountMinor: half },
              { from: mid, to, amountMinor: String(Number(amount) - Number(half)) },
            ],
            `inv-${k}-${entries.length}`,
          );
          expect(BigInt(r.drawnMinor)).toBeLessThanOrEqual(BigInt(amount));
          entries = [...entries, ...r.entries];
        }
        // One invoice per period, in order: drawing for an earlier period afterwards is refused.
        if (usage.length > 0) {
          const last = Math.max(...usage.map((u) => u[0]));
          const late = drawCredits(
            entries,
            'USD',
            [{ from: monthStart(last), to: monthStart(last + 1), amountMinor: '0' }],
            'noop',
          );
          expect(late.draws).toEqual([]);
        }
        wake(monthStart(12));
        const records = entries.filter((e) => e.type === 'expiry' || e.type === 'recurrence');
        expect(new Set(records.map((r) => (r.type === 'grant' ? '' : r.id))).size).toBe(records.length);
        const withoutRecords = entries.filter((e) => e.type !== 'expiry' && e.type !== 'recurrence');
        for (let k = 0; k <= 12; k++) {
          for (const date of [monthStart(k), `${monthStart(k).slice(0, 8)}15`]) {
            const b = creditBalance(entries, 'USD', date);
            // Timer records never move the balance, and every expiry and occurrence by then was recorded.
            const bare = creditBalance(withoutRecords, 'USD', date);
            expect([b.balanceMinor, b.expiredMinor, b.grantedMinor]).toEqual([
              bare.balanceMinor,
              bare.expiredMinor,
              bare.grantedMinor,
            ]);
            for (const l of b.log)
              if (
                l.date <= monthStart(12) &&
                (l.type === 'expiry' || (l.type === 'grant' && /#[1-9]\d*$/.test(l.bucketId)))
              )
                expect(l.recorded).toBeDefined();
            const identity =
              BigInt(b.grantedMinor) - BigInt(b.drawnMinor) - BigInt(b.voidedMinor) - BigInt(b.expiredMinor);
            expect(BigInt(b.balanceMinor)).toBe(identity);
            expect(BigInt(b.balanceMinor)).toBeGreaterThanOrEqual(0n);
            for (const bucket of b.buckets) expect(BigInt(bucket.remainingMinor)).toBeGreaterThan(0n);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

const rates: TaxRate[] = [
  { id: 'a', name: 'A', jurisdiction: 'X', percent: '7.25', inclusive: false },
  { id: 'b', name: 'B', jurisdiction: 'X-Y', percent: '2.5', inclusive: false },
  { id: 'c', name: 'C', jurisdiction: 'X-Y', percent: '19', inclusive: true },
];

const coupon = (i: number) =>
  fc.oneof(
    fc.record({ percent: fc.integer({ min: 0, max: 10000 }) }).map(({ percent }): Coupon => ({
      id: `c${i}`,
      name: 'p',
      kind: 'percentage',
      percent: String(percent / 100),
      duration: 'forever',
    })),
    fc
      .record({ amount: fc.integer({ min: 0, max: 100000 }), onlyFirst: fc.boolean() })
      .map(({ amount, onlyFirst }): Coupon => ({
        id: `c${i}`,
        name: 'a',
        kind: 'amount',
        amount: (amount / 100).toFixed(2),
        currency: 'USD',
        duration: 'forever',
        ...(onlyFirst ? { appliesTo: { charges: ['l0'] } } : {}),
      })),
  );

describe('invoice totals (property)', () => {
  it('total = Σ lines − discounts − credits + exclusive taxes; each total is the sum of its lines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -20_000, max: 200_000 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 3 }).chain((ids) => fc.tuple(...ids.map((_, i) => coupon(i)))),
        fc.integer({ min: 0, max: 1000 }),
        fc.constantFrom(undefined, 'X', 'X-Y'),
        (amounts, coupons, creditPermille, jurisdiction) => {
          const lines = amounts.map((a, i) => ({
            lineId: `l${i}`,
            chargeId: `l${i}`,
            name: `l${i}`,
            amountMinor: String(a),
          }));
          const d = discountInvoice(
            'USD',
            lines,
            coupons.map((c) => ({ coupon: c, periodIndex: 0 })),
          );
          const credit = (BigInt(d.creditableMinor) * BigInt(creditPermille)) / 1000n;
          const draws = [
            {
              bucketId: 'g',
              grantId: 'g',
              date: '2026-01-01',
              segmentTo: '2026-02-01',
              amountMinor: String(credit),
            },
          ];
          const inv = completeInvoice(d, draws, {
            profile: { jurisdiction },
            calculator: rateTableTaxCalculator(rates),
          });
          const sum = (xs: string[]) => xs.reduce((s, x) => s + BigInt(x), 0n);
          expect(BigInt(inv.totalMinor)).toBe(
            BigInt(inv.subtotalMinor) -
              BigInt(inv.discountMinor) -
              BigInt(inv.creditMinor) +
              BigInt(inv.taxExclusiveMinor),
          );
          expect(sum(inv.lines.map((l) => l.totalMinor))).toBe(BigInt(inv.totalMinor));
          expect(sum(inv.lines.map((l) => l.amountMinor))).toBe(BigInt(inv.subtotalMinor));
          expect(sum(inv.lines.map((l) => l.discountMinor))).toBe(BigInt(inv.discountMinor));
          expect(sum(inv.discounts.map((x) => x.amountMinor))).toBe(BigInt(inv.discountMinor));
          expect(sum(inv.lines.map((l) => l.creditMinor))).toBe(credit);
          expect(sum(inv.taxes.map((t) => t.amountMinor))).toBe(
            BigInt(inv.taxInclusiveMinor) + BigInt(inv.taxExclusiveMinor),
          );
          for (const l of inv.lines) {
            expect(BigInt(l.taxableMinor)).toBe(
              BigInt(l.amountMinor) - BigInt(l.discountMinor) - BigInt(l.creditMinor),
            );
            if (BigInt(l.amountMinor) >= 0n) expect(BigInt(l.creditMinor)).toBeGreaterThanOrEqual(0n);
          }
          // Amount coupons never take more than the lines owe.
          if (coupons.every((c) => c.kind === 'amount') && amounts.every((a) => a >= 0))
            expect(BigInt(inv.discountMinor)).toBeLessThanOrEqual(BigInt(inv.subtotalMinor));
        },
      ),
      { numRuns: 300 },
    );
  });
});
