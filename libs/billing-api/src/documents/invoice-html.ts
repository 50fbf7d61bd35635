import type { AdjustmentLine, InvoiceDocument, InvoiceLine } from '@tally/billing';
import { escapeHtml, money } from './html-text';
import { dailyUsageSection, financeSection } from './invoice-html-sections';

export { escapeHtml } from './html-text';

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; color: #111; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
h2 { font-size: 1.05rem; margin: 1.2rem 0 0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.nowrap { white-space: nowrap; }
tfoot td { font-weight: 600; border-bottom: none; }
.meta { color: #555; }
.small { font-size: 12px; color: #555; }
table.daily td, table.daily th { padding: .1rem .5rem; font-size: 12px; }
@page { size: A4; margin: 16mm 14mm; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; text-decoration: none; } tr { break-inside: avoid; } }`;

function invoiceRows(doc: InvoiceDocument): string {
  return (doc.lines as InvoiceLine[])
    .map((l) => {
      // Units paid by unit grants come off before the tiers (docs/finance.md#unit-grants).
      const granted = l.grantedUnits
        ? `<span class="nowrap">${escapeHtml(l.grantedUnits)} granted</span>${l.tiers?.length ? '<br>' : ', '}`
        : '';
      const priced = l.tiers?.length
        ? l.tiers
            .map(
              (t) =>
                `<span class="nowrap">tier ${t.tier}: ${escapeHtml(t.quantity)} × ${escapeHtml(t.unitPrice)}${t.flatFee !== '0' ? ` + ${escapeHtml(t.flatFee)}` : ''} = ${escapeHtml(t.amount)}</span>`,
            )
            .join('<br>')
        : l.proration
          ? `${escapeHtml(l.proration.activeDays)} of ${escapeHtml(l.proration.daysInPeriod)} days`
          : l.billableQuantity !== l.quantity
            ? `${escapeHtml(l.billableQuantity)} billable`
            : '';
      const detail = granted + (priced || (granted ? `${escapeHtml(l.billableQuantity)} billable` : ''));
      return `<tr><td>${escapeHtml(l.name)}<div class="small">${escapeHtml(l.subscription)} · ${escapeHtml(l.meter ?? l.kind)}</div></td>
<td class="n">${escapeHtml(l.quantity)}</td><td class="small">${detail}</td><td class="n">${escapeHtml(money(l.amountMinor, doc.currency))}</td></tr>`;
    })
    .join('\n');
}

function adjustmentRows(doc: InvoiceDocument): string {
  return (doc.lines as AdjustmentLine[])
    .map(
      (
        l,
      ) => `<tr><td>${escapeHtml(l.name)}<div class="small">${escapeHtml(l.subscription)} · ${escapeHtml(l.meter ?? '')}</div></td>
<td class="n">${escapeHtml(l.quantityBefore)} → ${escapeHtml(l.quantityAfter)}</td>
<td class="small">${escapeHtml(money(l.amountMinorBefore, doc.currency))} → ${escapeHtml(money(l.amountMinorAfter, doc.currency))}</td>
<td class="n">${escapeHtml(money(l.amountMinor, doc.currency))}</td></tr>`,
    )
    .join('\n');
}

/** A credit note on request: each line given back, with its taxes. */
function creditNoteRows(doc: InvoiceDocument): string {
  const note = doc.creditNote;
  if (!note) return '';
  return note.lines
    .map(
      (l) => `<tr><td>${escapeHtml(l.name)}<div class="small">${escapeHtml(l.lineId)}</div></td>
<td class="n">${escapeHtml(money(l.amountMinor, doc.currency))}</td>
<td class="small">${escapeHtml(l.taxes.map((t) => `${t.rateId}${t.inclusive ? ' (incl.)' : ''} ${money(t.amountMinor, doc.currency)}`).join(', ') || 'no tax')}</td>
<td class="n">-${escapeHtml(money(l.totalMinor, doc.currency))}</td></tr>`,
    )
    .join('\n');
}

/**
 * A printable, self-contained page for one invoice, interim invoice, adjustment or credit note: the one
 * layout of Tally's documents (the PDF is this page printed by headless Chromium). Every value is escaped.
 */
export function renderInvoiceHtml(doc: InvoiceDocument): string {
  const adjustment = doc.kind === 'adjustment';
  const title = doc.creditNote
    ? `Credit note ${doc.creditNote.number}`
    : adjustment
      ? `${BigInt(doc.totalMinor) < 0n ? 'Credit note' : 'Supplementary invoice'} ${doc.invoiceId}`
      : doc.kind === 'interim'
        ? `Interim invoice ${doc.invoiceId}`
        : `Invoice ${doc.invoiceId}`;
  const head = doc.creditNote
    ? '<tr><th>Line credited</th><th class="n">Amount</th><th>Taxes given back</th><th class="n">Credited</th></tr>'
    : adjustment
      ? '<tr><th>Charge</th><th class="n">Quantity</th><th>Amount before → after</th><th class="n">Change</th></tr>'
      : '<tr><th>Charge</th><th class="n">Quantity</th><th>Detail</th><th class="n">Amount</th></tr>';
  const reference = doc.creditNote
    ? `<p>Credits invoice <a href="${escapeHtml(encodeURIComponent(doc.referencesInvoiceId))}.html">${escapeHtml(doc.referencesInvoiceId)}</a>
(document ${escapeHtml(doc.invoiceId)}). Reason: ${escapeHtml(doc.creditNote.reason)}. Balance of the period after it:
<b>${escapeHtml(money(doc.cumulativeTotalMinor, doc.currency))}</b>.</p>`
    : adjustment
      ? `<p>Corrects invoice <a href="${escapeHtml(encodeURIComponent(doc.referencesInvoiceId))}.html">${escapeHtml(doc.referencesInvoiceId)}</a>
for ${escapeHtml(doc.lateEventCount)} late event${doc.lateEventCount === 1 ? '' : 's'}. Balance of the period after it:
<b>${escapeHtml(money(doc.cumulativeTotalMinor, doc.currency))}</b>.</p>`
      : doc.interim
        ? `<p>Progressive billing: the period's accrued amount, <b>${escapeHtml(money(doc.interim.accruedMinor, doc.currency))}</b>,
reached the threshold of ${escapeHtml(money(doc.interim.thresholdMinor, doc.currency))}. Earlier interim invoices of the period billed
${escapeHtml(money(doc.interim.previouslyBilledMinor, doc.currency))}; the period's invoice will deduct this one.</p>`
        : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">Customer <b>${escapeHtml(doc.customer)}</b> · period ${escapeHtml(doc.period)}
(${escapeHtml(doc.periodStart)} to ${escapeHtml(doc.periodEnd)}, ${escapeHtml(doc.timezone)}) · issued ${escapeHtml(doc.createdAt)}</p>
${reference}
<table><thead>${head}</thead>
<tbody>
${doc.creditNote ? creditNoteRows(doc) : adjustment ? adjustmentRows(doc) : invoiceRows(doc)}
</tbody>
${
  // With finance terms an invoice's total comes after discounts, credits and taxes (the section below).
  doc.finance && !adjustment
    ? ''
    : `<tfoot><tr><td colspan="3">${adjustment ? 'Change' : 'Total'}</td><td class="n">${escapeHtml(money(doc.totalMinor, doc.currency))}</td></tr></tfoot>`
}
</table>
${financeSection(doc)}
${dailyUsageSection(doc)}
<p class="small">Usage fingerprint: ${escapeHtml(doc.fingerprint.eventCount)} events, checksum ${escapeHtml(doc.fingerprint.checksum)}.
Meter versions: ${escapeHtml(
    Object.entries(doc.pricing.meterVersions)
      .map(([k, v]) => `${k} v${v}`)
      .join(', ') || 'none',
  )}.</p>
</body></html>
`;
}
