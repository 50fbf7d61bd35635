import { compareDecimals } from '@tally/pricing';

/** One customer whose total differs between the system under test and the reference. */
export interface TotalDifference {
  customer: string;
  expected: string | undefined;
  actual: string | undefined;
}

/**
 * Every customer of either side whose totals differ (as decimals: `12.50` equals `12.5`). A customer
 * missing from one side is compared as `missingAs` when given (a query that leaves out customers
 * without usage), else reported: leaving a customer out must not hide a wrong total.
 */
export function totalDifferences(
  expected: ReadonlyMap<string, string>,
  actual: ReadonlyMap<string, string>,
  { missingAs }: { missingAs?: string } = {},
): TotalDifference[] {
  const customers = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  const differences: TotalDifference[] = [];
  for (const customer of customers) {
    const e = expected.get(customer) ?? missingAs;
    const a = actual.get(customer) ?? missingAs;
    if (e === undefined || a === undefined || compareDecimals(e, a) !== 0) {
      differences.push({ customer, expected: expected.get(customer), actual: actual.get(customer) });
    }
  }
  return differences;
}

/** `what: N of M customers differ: c1 (name 12 vs reference 13), ...` naming up to `limit` of them. */
export function describeDifferences(
  what: string,
  differences: readonly TotalDifference[],
  compared: number,
  names: { actual: string; expected: string },
  limit = 20,
): string {
  const shown = differences
    .slice(0, limit)
    .map(
      (d) =>
        `${d.customer} (${names.actual} ${d.actual ?? 'missing'}, ${names.expected} ${d.expected ?? 'missing'})`,
    );
  const more = differences.length > limit ? `, and ${differences.length - limit} more` : '';
  return `${what}: ${differences.length} of ${compared} customers differ: ${shown.join(', ')}${more}`;
}
