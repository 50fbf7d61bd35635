/**
 * Credit notes against an invoice: full, partial or per line, for refunds and disputes. A credit note
 * never edits the invoice; it is a document of its own whose lines give back part of the invoice's
 * lines with their taxes. Several credit notes may follow one invoice, never crediting more of a
 * line than it charged (after discounts and credits).
 *
 * Per line: the amount credited `x` is taken from what is left of the line's taxable amount (its
 * `taxableMinor` minus earlier credit notes). Each tax of the line gives back
 * `round(tax × x / taxable)` half-even, or exactly what is left of it when `x` is the whole rest, so
 * that crediting a line in parts gives back exactly its taxes. The credit note's total is
 * `Σ x + Σ exclusive taxes given back`.
 */
import { type Dec, ZERO, dec, min, str } from './decimal';
import { PricingError, type PricingIssue } from './errors';
import type { FinalLine } from './invoice-totals';
import { minorArg, roundHalfEvenSigned } from './money';

export interface CreditNoteLine {
  lineId: string;
  name: string;
  /** Taxable amount given back (includes inclusive taxes). */
  amountMinor: string;
  taxes: Array<{ rateId: string; inclusive: boolean; amountMinor: string }>;
  /** `amount + exclusive taxes`. */
  totalMinor: string;
}

export interface CreditNoteAmounts {
  lines: CreditNoteLine[];
  /** Σ amounts. */
  subtotalMinor: string;
  taxExclusiveMinor: string;
  taxInclusiveMinor: string;
  /** What the customer gets back: Σ line totals. */
  totalMinor: string;
}

/** Lines to credit: each with an amount (partial), or without (the rest of the line). Absent: all lines. */
export interface CreditNoteRequest {
  lines?: Array<{ lineId: string; amountMinor?: string }>;
}

export function computeCreditNote(
  invoiceLines: readonly FinalLine[],
  earlier: ReadonlyArray<{ lines: readonly CreditNoteLine[] }>,
  request: CreditNoteRequest,
): CreditNoteAmounts {
  const credited = new Map<string, Dec>();
  const taxCredited = new Map<string, Dec>();
  for (const note of earlier)
    for (const l of note.lines) {
      credited.set(l.lineId, (credited.get(l.lineId) ?? ZERO).plus(l.amountMinor));
      for (const t of l.taxes) {
        const k = `${l.lineId}\u0000${t.rateId}`;
        taxCredited.set(k, (taxCredited.get(k) ?? ZERO).plus(t.amountMinor));
      }
    }
  const byId = new Map(invoiceLines.map((l) => [l.lineId, l]));
  const wanted: Array<{ lineId: string; amountMinor?: string }> =
    request.lines ?? invoiceLines.map((l) => ({ lineId: l.lineId }));
  const issues: PricingIssue[] = [];
  const lines: CreditNoteLine[] = [];
  wanted.forEach((w, i) => {
    const line = byId.get(w.lineId);
    if (!line) {
      issues.push({
        field: `lines[${i}].lineId`,
        code: 'UNKNOWN_LINE',
        message: `the invoice has no line '${w.lineId}'`,
      });
      return;
    }
    const taxable = dec(line.taxableMinor);
    const left = taxable.minus(credited.get(line.lineId) ?? ZERO);
    const x = w.amountMinor === undefined ? left : minorArg(w.amountMinor, `lines[${i}].amountMinor`);
    if (x.isNeg() || x.gt(left) || (left.isNeg() && !x.isZero())) {
      issues.push({
        field: `lines[${i}].amountMinor`,
        code: 'CREDIT_EXCEEDS_INVOICE',
        message: `at most ${str(left.isNeg() ? ZERO : left)} of line '${line.lineId}' is left to credit`,
      });
      return;
    }
    if (x.isZero()) return;
    const whole = x.eq(left);
    const taxes = line.taxes.map((t) => {
      const k = `${line.lineId}\u0000${t.rateId}`;
      const rest = dec(t.amountMinor).minus(taxCredited.get(k) ?? ZERO);
      const give = whole ? rest : min(rest, roundHalfEvenSigned(dec(t.amountMinor).times(x).div(taxable)));
      return { rateId: t.rateId, inclusive: t.inclusive, amountMinor: str(give) };
    });
    const excl = taxes.filter((t) => !t.inclusive).reduce((s, t) => s.plus(t.amountMinor), ZERO);
    lines.push({
      lineId: line.lineId,
      name: line.name,
      amountMinor: str(x),
      taxes,
      totalMinor: str(x.plus(excl)),
    });
  });
  if (issues.length) throw new PricingError('INVALID_ARGUMENT', 'Invalid credit note', issues);
  const sum = (f: (l: CreditNoteLine) => Dec) => lines.reduce((s, l) => s.plus(f(l)), ZERO);
  const taxSum = (inclusive: boolean) =>
    sum((l) =>
      l.taxes.filter((t) => t.inclusive === inclusive).reduce((s, t) => s.plus(t.amountMinor), ZERO),
    );
  return {
    lines,
    subtotalMinor: str(sum((l) => dec(l.amountMinor))),
    taxExclusiveMinor: str(taxSum(false)),
    taxInclusiveMinor: str(taxSum(true)),
    totalMinor: str(sum((l) => dec(l.totalMinor))),
  };
}
