import {
  creditBalance,
  prepaidCommitmentGrant,
  prepaidCommitmentTrueUp,
  prepaidCommitmentUpfront,
  rateTableTaxCalculator,
  type Commitment,
  type CreditEntry,
} from './index';

/** $1,000.00 prepaid for the first quarter of 2026 (1 January up to 1 April). */
const q1: Commitment = {
  id: 'q1',
  kind: 'prepaid',
  currency: 'USD',
  amountMinor: '100000',
  start: '2026-01-01',
  end: '2026-04-01',
};
const ny = {
  profile: { jurisdiction: 'US-NY' },
  calculator: rateTableTaxCalculator([
    { id: 'ny', name: 'NY sales tax 4 %', jurisdiction: 'US-NY', percent: '4', inclusive: false },
  ]),
};

describe('a prepaid commitment: its up-front invoice and its term statement', () => {
  it('is invoiced on the first day of the term: one line of the whole commitment, taxed there', () => {
    const upfront = prepaidCommitmentUpfront(q1, { tax: ny });
    // 100000 + 4 % = 100000 + 4000 = 104000 ($1,040.00), no credit (a prepayment is not paid with credit).
    expect(upfront).toMatchObject({
      commitmentId: 'q1',
      date: '2026-01-01',
      currency: 'USD',
      subtotalMinor: '100000',
      creditMinor: '0',
      taxExclusiveMinor: '4000',
      totalMinor: '104000',
    });
    expect(upfront.lines.map((l) => [l.lineId, l.name, l.amountMinor, l.totalMinor])).toEqual([
      ['commitment:q1/prepayment', 'Prepaid commitment (2026-01-01 to 2026-04-01)', '100000', '104000'],
    ]);
    // Without a tax profile: exactly the commitment.
    expect(prepaidCommitmentUpfront(q1).totalMinor).toBe('100000');
  });

  it('at the end: covered, overage beyond the prepayment, or the unused part that expires', () => {
    // $300 + $450 + $400 = $1,150 spent: $1,000 covered, $150 overage, nothing unused.
    expect(prepaidCommitmentTrueUp(q1, ['30000', '45000', '40000'])).toEqual({
      prepaidMinor: '100000',
      spentMinor: '115000',
      coveredMinor: '100000',
      overageMinor: '15000',
      unusedMinor: '0',
    });
    // $300 in January, nothing else: $700 unused, the amount the grant's replay expires on 1 April.
    const statement = prepaidCommitmentTrueUp(q1, ['30000', '0', '0']);
    expect(statement).toMatchObject({ coveredMinor: '30000', overageMinor: '0', unusedMinor: '70000' });
    const grant = prepaidCommitmentGrant(q1);
    const ledger: CreditEntry[] = [
      { type: 'grant', grant },
      {
        type: 'draw',
        id: 'inv-jan/commitment-q1/2026-01-01',
        bucketId: grant.id,
        grantId: grant.id,
        date: '2026-01-01',
        amountMinor: '30000',
        invoiceId: 'inv-jan',
      },
    ];
    expect(creditBalance(ledger, 'USD', '2026-04-01').expiredMinor).toBe(statement.unusedMinor);
  });

  it('refuses a postpaid commitment and a term that ends before it starts', () => {
    expect(() => prepaidCommitmentUpfront({ ...q1, kind: 'postpaid' })).toThrow(/postpaid, not prepaid/);
    expect(() => prepaidCommitmentTrueUp({ ...q1, end: '2026-01-01' }, [])).toThrow(/ends on or before/);
  });
});
