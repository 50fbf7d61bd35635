/**
 * The parts of an invoice page below its lines: what the finance steps did (discounts, credits, taxes)
 * and the usage per local day. Every value is escaped; amounts are the document's, never recomputed.
 */
import type { InvoiceDocument } from '@tally/billing';
import { escapeHtml, minus, money } from './html-text';

/**
 * Lines → discounts → credits → taxes → total, as `InvoiceFinance` records them (docs/finance.md). On a
 * period-end invoice after interim invoices, the amount due is that total minus what they billed (the
 * `interim_deduction` lines). Credit notes have their own taxes (no section); on an adjustment the
 * section shows the period's charges after it.
 */
export function financeSection(doc: InvoiceDocument): string {
  const f = doc.finance;
  if (!f || doc.creditNote) return '';
  const c = doc.currency;
  const rows = [
    `<tr><td>Lines</td><td></td><td class="n">${escapeHtml(money(f.subtotalMinor, c))}</td></tr>`,
    ...f.discounts.map(
      (d) =>
        `<tr><td>Discount: ${escapeHtml(d.name)}</td><td class="small">coupon ${escapeHtml(d.couponId)}</td><td class="n">${minus(d.amountMinor, c)}</td></tr>`,
    ),
    ...f.credits.map(
      (d) =>
        `<tr><td>Credit: ${escapeHtml(d.bucketId)}</td><td class="small">grant ${escapeHtml(d.grantId)}, usage of ${escapeHtml(d.date)} to ${escapeHtml(d.segmentTo)}</td><td class="n">${minus(d.amountMinor, c)}</td></tr>`,
    ),
    // Unit grants move no money: their units came off the lines' quantities before pricing.
    ...(f.unitCredits ?? []).map(
      (u) =>
        `<tr><td>Units granted: ${escapeHtml(u.grantId)}</td><td class="small">${escapeHtml(u.units)} ${escapeHtml(u.meter)}, usage from ${escapeHtml(u.date)}</td><td class="n"></td></tr>`,
    ),
    ...f.taxes.map(
      (t) =>
        `<tr><td>Tax: ${escapeHtml(t.name)}</td><td class="small">${escapeHtml(t.percent)} % of ${escapeHtml(money(t.baseMinor, c))}${t.inclusive ? ', included in the prices' : ''}</td><td class="n">${t.inclusive ? `(${escapeHtml(money(t.amountMinor, c))})` : escapeHtml(money(t.amountMinor, c))}</td></tr>`,
    ),
  ];
  const total = (label: string, minor: string) =>
    `<tr><td colspan="2">${label}</td><td class="n">${escapeHtml(money(minor, c))}</td></tr>`;
  const foot =
    doc.kind === 'adjustment'
      ? [total("The period's charges after this document", f.totalMinor)]
      : f.totalMinor === doc.totalMinor
        ? [total('Total', doc.totalMinor)]
        : [
            total('Total of the period', f.totalMinor),
            `<tr><td colspan="2">Billed on interim invoices</td><td class="n">${minus((BigInt(f.totalMinor) - BigInt(doc.totalMinor)).toString(), c)}</td></tr>`,
            total('Amount due', doc.totalMinor),
          ];
  return `<h2>Discounts, credits and taxes</h2>
<table class="finance"><tbody>
${rows.join('\n')}
</tbody>
<tfoot>${foot.join('\n')}</tfoot>
</table>`;
}

/**
 * Usage per local day: one column per subscription and series, one row per day that has usage in any
 * of them. The days are those the document priced (`usage`), in the customer's zone.
 */
export function dailyUsageSection(doc: InvoiceDocument): string {
  const columns: Array<{ label: string; byDay: Map<string, string>; total: string }> = [];
  for (const [subscription, series] of Object.entries(doc.usage ?? {}))
    for (const [key, usage] of Object.entries(series))
      columns.push({
        label: `${subscription} · ${key}`,
        byDay: new Map(usage.days.map((d) => [d.day, d.value])),
        total: usage.total,
      });
  const days = [...new Set(columns.flatMap((col) => [...col.byDay.keys()]))].sort();
  if (!days.length) return '';
  const head = columns.map((col) => `<th class="n">${escapeHtml(col.label)}</th>`).join('');
  const body = days
    .map(
      (day) =>
        `<tr><td>${escapeHtml(day)}</td>${columns.map((col) => `<td class="n">${escapeHtml(col.byDay.get(day) ?? '')}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const total = columns.map((col) => `<td class="n">${escapeHtml(col.total)}</td>`).join('');
  return `<h2>Usage per day (${escapeHtml(doc.timezone)})</h2>
<table class="daily"><thead><tr><th>Day</th>${head}</tr></thead>
<tbody>
${body}
</tbody>
<tfoot><tr><td>Period</td>${total}</tr></tfoot>
</table>`;
}
