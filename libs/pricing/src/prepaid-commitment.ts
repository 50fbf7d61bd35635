/**
 * A prepaid commitment's own invoices (docs/finance.md#commitments): the customer pays the whole
 * commitment up front, on the term's first day, and the ledger books it as a priority-0 credit grant
 * over the term (`prepaidCommitmentGrant`) that the period invoices draw.
 *
 * - **Up front** (`prepaidCommitmentUpfront`): one line, the commitment's amount, dated `start`, through
 *   the same finance steps as any invoice (coupons if given, no credit: a prepayment is never paid with
 *   credit, then taxes). The tax of the prepayment is on this invoice; the period invoices it pays for
 *   are taxed on what is left after the credit (docs/finance.md "The order"), so nothing is taxed twice.
 * - **At the end** (`prepaidCommitmentTrueUp`): the term's statement. Spend is the term's invoices'
 *   lines at list price, as for postpaid commitments. What the prepayment covered is
 *   `min(spend, commitment)`; the **overage** `max(0, spend − commitment)`; what is **unused**
 *   `max(0, commitment − spend)` expires with the grant (nothing is refunded, nothing more is owed for it).
 *
 * Pure: no clock, no I/O; amounts are integer minor units, exact.
 */
import { type Dec, ZERO, max, min, str } from './decimal';
import { PricingError } from './errors';
import type { Commitment } from './commitments';
import type { AppliedCoupon } from './discounts';
import { completeInvoice, discountInvoice, type InvoiceTotals } from './invoice-totals';
import { minorArg } from './money';
import type { TaxCalculator, TaxProfile } from './tax';

export interface PrepaidCommitmentUpfront extends InvoiceTotals {
  commitmentId: string;
  /** The local date the prepayment is invoiced on: the term's first day. */
  date: string;
}

export interface PrepaidCommitmentStatement {
  prepaidMinor: string;
  spentMinor: string;
  /** `min(spend, commitment)`: what the prepayment paid for. */
  coveredMinor: string;
  /** `max(0, spend − commitment)`: spend beyond the prepayment. */
  overageMinor: string;
  /** `max(0, commitment − spend)`: what expires with the grant at the term's end. */
  unusedMinor: string;
}

function prepaidOnly(c: Commitment): Dec {
  if (c.kind !== 'prepaid')
    throw new PricingError('INVALID_ARGUMENT', `commitment '${c.id}' is ${c.kind}, not prepaid`, [
      { field: 'kind', code: 'REQUIRED', message: 'only a prepaid commitment is invoiced up front' },
    ]);
  if (!(c.end > c.start))
    throw new PricingError('INVALID_ARGUMENT', `commitment '${c.id}' ends on or before it starts`, [
      { field: 'end', code: 'REQUIRED', message: 'end must be after start' },
    ]);
  return minorArg(c.amountMinor, 'amountMinor');
}

/** The invoice of a prepaid commitment, issued on its term's first day. Line id `commitment:<id>/prepayment`. */
export function prepaidCommitmentUpfront(
  c: Commitment,
  terms: {
    coupons?: readonly AppliedCoupon[];
    tax?: { profile: TaxProfile; calculator: TaxCalculator };
  } = {},
): PrepaidCommitmentUpfront {
  const amount = prepaidOnly(c);
  const discounted = discountInvoice(
    c.currency,
    [
      {
        lineId: `commitment:${c.id}/prepayment`,
        chargeId: `commitment:${c.id}`,
        name: `Prepaid commitment (${c.start} to ${c.end})`,
        amountMinor: str(amount),
      },
    ],
    terms.coupons ?? [],
  );
  return { commitmentId: c.id, date: c.start, ...completeInvoice(discounted, [], terms.tax) };
}

/** The term's statement at its end: covered, overage and unused, from each period's spend at list price. */
export function prepaidCommitmentTrueUp(
  c: Commitment,
  spendMinor: readonly string[],
): PrepaidCommitmentStatement {
  const prepaid = prepaidOnly(c);
  const spent = spendMinor.reduce((s: Dec, x, i) => s.plus(minorArg(x, `spend[${i}]`)), ZERO);
  return {
    prepaidMinor: str(prepaid),
    spentMinor: str(spent),
    coveredMinor: str(min(spent, prepaid)),
    overageMinor: str(max(ZERO, spent.minus(prepaid))),
    unusedMinor: str(max(ZERO, prepaid.minus(spent))),
  };
}
