import { type FieldIssue } from '@tally/errors';
import { validationError, type CreditLedgerEntry } from './entities';

/**
 * A customer's credit ledger is only appended to (docs/finance.md#prepaid-credits): every stored grant
 * and void must still be there, unchanged and in the same order; a top-up or a void is a new entry at
 * the end. The timers' records (`expiry`, `recurrence`) are the billing worker's: a write that leaves
 * them out (a catalog file or an update written before they were recorded) keeps them, one that names
 * them must name them unchanged. Answers the ledger to store.
 */
export function appendOnlyCredits(
  before: readonly CreditLedgerEntry[],
  after: readonly CreditLedgerEntry[],
): CreditLedgerEntry[] {
  const isRecord = (e: CreditLedgerEntry) => e.type === 'expiry' || e.type === 'recurrence';
  const issues: FieldIssue[] = [];
  const refuse = (i: number) =>
    issues.push({
      field: `billing.credits[${i}]`,
      code: 'CREDIT_LEDGER_APPEND_ONLY',
      message: 'credit entries are never edited or removed: append a void or a new grant instead',
    });
  const written = after.filter((e) => !isRecord(e));
  let k = 0;
  before.forEach((entry, i) => {
    if (isRecord(entry)) return;
    if (k >= written.length || JSON.stringify(written[k]) !== JSON.stringify(entry)) refuse(i);
    k++;
  });
  const named = new Map(after.map((e, i) => [e.id, i]));
  const kept: CreditLedgerEntry[] = [];
  for (const record of before.filter(isRecord)) {
    const i = named.get(record.id);
    if (i === undefined) kept.push(record);
    else if (JSON.stringify(after[i]) !== JSON.stringify(record)) refuse(i);
  }
  if (issues.length) throw validationError(issues, 'customer');
  return [...after, ...kept];
}
