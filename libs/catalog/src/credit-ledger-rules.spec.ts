import { ValidationFailedError } from '@tally/errors';
import { appendOnlyCredits } from './credit-ledger-rules';
import type { CreditLedgerEntry } from './entities';

const grant = (id: string, amountMinor = '5000'): CreditLedgerEntry => ({
  type: 'grant',
  id,
  currency: 'USD',
  amountMinor,
  effective: '2026-12-01',
  expires: '2026-12-20',
});
const expiry: CreditLedgerEntry = {
  type: 'expiry',
  id: 'g__expiry',
  grantId: 'g',
  bucketId: 'g',
  date: '2026-12-20',
};
const codes = (work: () => unknown) => {
  try {
    work();
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationFailedError);
    return (e as ValidationFailedError).details.map((d) => [d.field, d.code]);
  }
};

describe('the credit ledger is append-only', () => {
  it('accepts appended grants and voids, refuses an edited or removed one on its field', () => {
    expect(appendOnlyCredits([grant('a')], [grant('a'), grant('b')])).toEqual([grant('a'), grant('b')]);
    expect(codes(() => appendOnlyCredits([grant('a'), grant('b')], [grant('b')]))).toEqual([
      ['billing.credits[0]', 'CREDIT_LEDGER_APPEND_ONLY'],
      ['billing.credits[1]', 'CREDIT_LEDGER_APPEND_ONLY'],
    ]);
    expect(codes(() => appendOnlyCredits([grant('a')], [grant('a', '1')]))).toEqual([
      ['billing.credits[0]', 'CREDIT_LEDGER_APPEND_ONLY'],
    ]);
  });

  it("keeps the timers' records when a write leaves them out (a catalog file), refuses them edited", () => {
    // Stored: the grant, then its expiry record; the catalog file still has the grant only, plus a top-up.
    expect(appendOnlyCredits([grant('g'), expiry], [grant('g'), grant('t')])).toEqual([
      grant('g'),
      grant('t'),
      expiry,
    ]);
    expect(appendOnlyCredits([grant('g'), expiry], [grant('g'), expiry])).toEqual([grant('g'), expiry]);
    expect(
      codes(() => appendOnlyCredits([grant('g'), expiry], [grant('g'), { ...expiry, date: '2026-12-21' }])),
    ).toEqual([['billing.credits[1]', 'CREDIT_LEDGER_APPEND_ONLY']]);
  });
});
