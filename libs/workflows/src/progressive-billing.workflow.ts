import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  PROGRESS_QUERY,
  THRESHOLD_CROSSED_SIGNAL,
  type ProgressiveBillingInput,
  type ProgressiveBillingState,
} from '@tally/billing-contracts';
import { billingActivities } from './billing-activities';

/** The number of thresholds the monitor saw reached (a hint: the activity decides again). */
export const thresholdCrossedSignal = defineSignal<[string]>(THRESHOLD_CROSSED_SIGNAL);
export const progressiveProgressQuery = defineQuery<ProgressiveBillingState>(PROGRESS_QUERY);

/**
 * Interim invoices of one customer's open period: `progressive/<tenant>/<customer>/<period>`,
 * signalled with start by the billing worker's progressive monitor whenever the period's accrued amount
 * reached a threshold that no interim invoice billed yet. Each signal makes the `issueInterim` activity
 * decide on the usage then; signals that arrive while it runs are answered by one more check. Being the
 * only workflow of the period, it serialises the period's interim invoices (the activity's idempotence
 * covers retries and a killed worker). Ends when the period ended or after `idleSeconds` without a
 * signal; the next crossing starts it again.
 */
export async function progressiveBillingWorkflow(
  input: ProgressiveBillingInput,
): Promise<ProgressiveBillingState> {
  const acts = billingActivities(input);
  const state: ProgressiveBillingState = {
    signalled: 0,
    checks: 0,
    issued: 0,
    pending: false,
    ...input.state,
  };
  setHandler(thresholdCrossedSignal, () => {
    state.signalled++;
    state.pending = true;
  });
  setHandler(progressiveProgressQuery, () => ({ ...state }));
  const idleMs = (input.idleSeconds ?? 86_400) * 1000;
  const checksPerRun = input.checksPerRun ?? 50;
  let checksThisRun = 0;
  for (;;) {
    if (!state.pending && !(await condition(() => state.pending, idleMs))) return state;
    state.pending = false;
    const outcome = await acts.issueInterim({
      tenant: input.tenant,
      customer: input.customer,
      period: input.period,
      owner: workflowInfo().workflowId,
    });
    state.checks++;
    checksThisRun++;
    if (outcome.status === 'issued') state.issued++;
    if (outcome.status === 'period_ended' || outcome.status === 'not_progressive') return state;
    if (checksThisRun >= checksPerRun || workflowInfo().continueAsNewSuggested)
      await continueAsNew<typeof progressiveBillingWorkflow>({ ...input, state: { ...state } });
  }
}
