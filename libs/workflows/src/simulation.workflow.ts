import { continueAsNew, defineQuery, setHandler } from '@temporalio/workflow';
import {
  addSimulationSummaries,
  emptySimulationSummary,
  PROGRESS_QUERY,
  type SimulationInput,
  type SimulationProgress,
  type SimulationState,
} from '@tally/billing-contracts';
import { billingActivities } from './billing-activities';

export const simulationProgressQuery = defineQuery<SimulationProgress>(PROGRESS_QUERY);

/**
 * A price simulation over many customers: period by period, page by page, each page re-priced and its
 * results stored by an activity (`simulation_results`, never the ledger); the workflow keeps only the
 * counts and totals. Answers `progress` (looked at so far against `expected`) and returns the summary.
 * A retried page stores the same rows again (collapsed by the table), so nothing is counted twice in
 * the stored results; the workflow's totals add each page's answer once.
 */
export async function simulationWorkflow(input: SimulationInput): Promise<SimulationProgress> {
  const acts = billingActivities({ activitySeconds: input.activitySeconds ?? 300 });
  let state: SimulationState = input.state ?? {
    ...emptySimulationSummary(),
    periodIndex: 0,
    pages: 0,
    expected: -1,
  };
  let done = false;
  const progress = (): SimulationProgress => ({
    ...state,
    tenant: input.spec.tenant,
    simulationId: input.simulationId,
    done,
  });
  setHandler(simulationProgressQuery, progress);
  if (state.expected < 0) state = { ...state, expected: await acts.countSimulation(input.spec) };
  const pagesPerRun = input.pagesPerRun ?? 50;
  let pagesThisRun = 0;
  while (state.periodIndex < input.spec.periods.length) {
    const page = await acts.simulatePage({
      spec: input.spec,
      simulationId: input.simulationId,
      period: input.spec.periods[state.periodIndex],
      ...(state.after !== undefined ? { after: state.after } : {}),
      limit: input.pageSize ?? 2000,
    });
    const summary = addSimulationSummaries(state, page);
    state = {
      ...summary,
      expected: state.expected,
      pages: state.pages + 1,
      periodIndex: page.next === undefined ? state.periodIndex + 1 : state.periodIndex,
      ...(page.next !== undefined ? { after: page.next } : {}),
    };
    pagesThisRun++;
    if (pagesThisRun >= pagesPerRun && state.periodIndex < input.spec.periods.length) {
      await continueAsNew<typeof simulationWorkflow>({ ...input, state });
    }
  }
  done = true;
  return progress();
}
