import type { CustomerSimulation } from '@tally/billing-contracts';
import { formatMinor } from '@tally/pricing';

/** Columns of the CSV export: one `total` row per customer and period, then one row per line. */
export const SIMULATION_CSV_HEADER = [
  'customer',
  'period',
  'status',
  'currency',
  'row',
  'subscription',
  'charge_id',
  'name',
  'quantity_billed',
  'quantity_simulated',
  'billed',
  'simulated',
  'difference',
] as const;

/** RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled. */
function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function row(values: readonly string[]): string {
  return `${values.map(field).join(',')}\r\n`;
}

/** CSV rows of simulation results (amounts in major units with the currency's decimals, exact). */
export function simulationCsvRows(results: readonly CustomerSimulation[]): string {
  let out = '';
  for (const r of results) {
    const money = (minor: string) => formatMinor(minor, r.currency);
    const head = [r.customer, r.period, r.status, r.currency];
    out += row([
      ...head,
      'total',
      '',
      '',
      '',
      '',
      '',
      money(r.billedMinor),
      money(r.simulatedMinor),
      money(r.differenceMinor),
    ]);
    for (const l of r.lines) {
      out += row([
        ...head,
        'line',
        l.subscription,
        l.chargeId,
        l.name,
        l.quantityBilled,
        l.quantitySimulated,
        money(l.billedMinor),
        money(l.simulatedMinor),
        money(l.differenceMinor),
      ]);
    }
  }
  return out;
}

export function simulationCsvHeader(): string {
  return row(SIMULATION_CSV_HEADER);
}
