/**
 * Price simulations: what customers would have paid for closed periods under a draft plan, re-priced on
 * the usage their invoices billed. The request, the results and the workflow's contract, shared by the
 * query API (which answers small simulations itself and starts the workflow for large ones), the
 * activities and the workflow.
 */
import type { Charge, Plan } from '@tally/pricing';

/** Which customers: every customer invoiced in the periods, a list, or those matching a filter. */
export type SimulationCustomers =
  { all: true } | { ids: string[] } | { filter: { plan?: string; timezone?: string } };

/**
 * How the plan changes. `draft`: a whole plan that replaces plan `plan` wherever an invoice priced a
 * subscription with it. `patch`: changes to that plan as each invoice priced it (top-level fields
 * replaced, charges replaced or added by id, `removeCharges` dropped).
 */
export type PlanChange =
  | { plan: string; draft: Plan }
  | {
      plan: string;
      patch: {
        name?: string;
        minimumCommitment?: string | null;
        maximum?: string | null;
        charges?: Charge[];
        removeCharges?: string[];
      };
    };

export interface SimulationSpec {
  tenant: string;
  /** Closed periods (`YYYY-MM`): those with invoices. */
  periods: string[];
  customers: SimulationCustomers;
  changes: PlanChange[];
}

/** One line of a customer's period: billed (latest document's lines) against simulated. */
export interface SimulatedLine {
  subscription: string;
  plan: string;
  chargeId: string;
  name: string;
  meter?: string;
  quantityBilled: string;
  quantitySimulated: string;
  billedMinor: string;
  simulatedMinor: string;
  differenceMinor: string;
}

/**
 * `simulated`: priced on the events the invoices billed (fingerprints equal). `usage_changed`: events
 * arrived that no document covers yet (a rebill is pending); priced on the events as they are now.
 */
export type SimulationStatus = 'simulated' | 'usage_changed';

export interface CustomerSimulation {
  customer: string;
  period: string;
  status: SimulationStatus;
  currency: string;
  /** What the customer owes for the period after its latest document. */
  billedMinor: string;
  simulatedMinor: string;
  differenceMinor: string;
  /** The period's latest document (the invoice or its last adjustment). */
  invoiceId: string;
  /** The latest document's fingerprint and the fingerprint of the events priced now. */
  fingerprint: {
    invoice: { eventCount: string; checksum: string };
    priced: { eventCount: string; checksum: string };
  };
  lines: SimulatedLine[];
}

export interface SimulationTotal {
  currency: string;
  customers: number;
  billedMinor: string;
  simulatedMinor: string;
  differenceMinor: string;
}

export interface SimulationCounts {
  /** Customer-periods looked at (invoiced in the period and in the list, before the filter). */
  scanned: number;
  simulated: number;
  usageChanged: number;
  /** Listed customers without an invoice in the period. */
  notInvoiced: number;
}

export interface SimulationSummary {
  counts: SimulationCounts;
  /** Per currency. */
  totals: SimulationTotal[];
}

export interface SimulationPageRequest {
  spec: SimulationSpec;
  /** Where the results are stored (workflow runs); absent: returned only. */
  simulationId?: string;
  period: string;
  /** Customers after this one (sorted order). */
  after?: string;
  limit: number;
}

export interface SimulationPage extends SimulationSummary {
  /** The page's results, when not stored. */
  results?: CustomerSimulation[];
  /** Pass as `after` for the next page; absent after the last. */
  next?: string;
}

export interface SimulationInput {
  spec: SimulationSpec;
  simulationId: string;
  /** Customers per activity. Default 2000. */
  pageSize?: number;
  /** Continue as new after this many pages. Default 50. */
  pagesPerRun?: number;
  activitySeconds?: number;
  state?: SimulationState;
}

export interface SimulationState extends SimulationSummary {
  /** Index into `spec.periods` of the period being simulated. */
  periodIndex: number;
  after?: string;
  pages: number;
  /** Customer-periods to look at in all (known once counted). */
  expected: number;
}

export interface SimulationProgress extends SimulationState {
  tenant: string;
  simulationId: string;
  done: boolean;
}

const ZERO = (): SimulationCounts => ({ scanned: 0, simulated: 0, usageChanged: 0, notInvoiced: 0 });

export function emptySimulationSummary(): SimulationSummary {
  return { counts: ZERO(), totals: [] };
}

/** Two summaries (pages, periods or runs) together; totals merged per currency, exact in minor units. */
export function addSimulationSummaries(a: SimulationSummary, b: SimulationSummary): SimulationSummary {
  const counts = { ...a.counts };
  for (const k of Object.keys(counts) as Array<keyof SimulationCounts>) counts[k] += b.counts[k];
  const totals = new Map(a.totals.map((t) => [t.currency, { ...t }]));
  for (const t of b.totals) {
    const s = totals.get(t.currency);
    if (!s) {
      totals.set(t.currency, { ...t });
      continue;
    }
    s.customers += t.customers;
    s.billedMinor = (BigInt(s.billedMinor) + BigInt(t.billedMinor)).toString();
    s.simulatedMinor = (BigInt(s.simulatedMinor) + BigInt(t.simulatedMinor)).toString();
    s.differenceMinor = (BigInt(s.differenceMinor) + BigInt(t.differenceMinor)).toString();
  }
  return { counts, totals: [...totals.values()].sort((x, y) => (x.currency < y.currency ? -1 : 1)) };
}

/** The summary of a list of customer results. */
export function summarizeSimulations(
  results: readonly CustomerSimulation[],
  scanned: number,
  notInvoiced: number,
): SimulationSummary {
  const sums = new Map<string, { customers: number; billed: bigint; simulated: bigint }>();
  let usageChanged = 0;
  for (const r of results) {
    if (r.status === 'usage_changed') usageChanged++;
    const s = sums.get(r.currency) ?? { customers: 0, billed: 0n, simulated: 0n };
    s.customers++;
    s.billed += BigInt(r.billedMinor);
    s.simulated += BigInt(r.simulatedMinor);
    sums.set(r.currency, s);
  }
  const totals = [...sums]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([currency, s]) => ({
      currency,
      customers: s.customers,
      billedMinor: s.billed.toString(),
      simulatedMinor: s.simulated.toString(),
      differenceMinor: (s.simulated - s.billed).toString(),
    }));
  return { counts: { scanned, simulated: results.length, usageChanged, notInvoiced }, totals };
}
