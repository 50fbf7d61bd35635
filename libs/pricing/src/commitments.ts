/**
 * Commitments over a term (several periods): the customer commits to spend `amountMinor` between
 * `start` and `end` (local dates, end exclusive).
 *
 * - `postpaid`: periods are invoiced as usual; the invoice of the term's last period adds a true-up of
 *   `max(0, commitment − Σ spend of the term's invoices)` (spend = each invoice's lines at list price,
 *   minimum and maximum included: before discounts, credits and taxes). The true-up is a line of the
 *   last invoice, so that invoice's coupons and taxes apply to it.
 * - `prepaid`: the commitment is invoiced up front and becomes a credit grant (`source: "purchase"`,
 *   usable over the term, drawn before other credit: priority 0); what is unused at the end expires
 *   (the "true-up" of a prepaid commitment is the expiry, there is nothing more to pay).
 */
import { type Dec, ZERO, dec, max, str } from './decimal';
import type { CreditGrant } from './credits';
import { minorArg } from './money';

export interface Commitment {
  id: string;
  kind: 'prepaid' | 'postpaid';
  currency: string;
  amountMinor: string;
  start: string;
  end: string;
}

/** The true-up of a postpaid commitment at the end of its term. */
export function commitmentTrueUp(
  c: Commitment,
  spendMinor: readonly string[],
): { spentMinor: string; trueUpMinor: string } {
  const spent = spendMinor.reduce((s: Dec, x, i) => s.plus(minorArg(x, `spend[${i}]`)), ZERO);
  return { spentMinor: str(spent), trueUpMinor: str(max(ZERO, dec(c.amountMinor).minus(spent))) };
}

/** The credit grant of a prepaid commitment. */
export function prepaidCommitmentGrant(c: Commitment): CreditGrant {
  return {
    id: `commitment-${c.id}`,
    name: `Prepaid commitment ${c.id}`,
    currency: c.currency,
    amountMinor: str(minorArg(c.amountMinor, 'amountMinor')),
    priority: 0,
    effective: c.start,
    expires: c.end,
    source: 'purchase',
  };
}
