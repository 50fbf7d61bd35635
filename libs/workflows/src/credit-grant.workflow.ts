import { continueAsNew, defineQuery, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { PROGRESS_QUERY, type CreditGrantInput, type CreditGrantState } from '@tally/billing-contracts';
import { billingActivities } from './billing-activities';

export const creditGrantProgressQuery = defineQuery<CreditGrantState>(PROGRESS_QUERY);

/**
 * The durable timers of one credit grant: `credit-grant/<tenant>/<customer>/<grant>`, started by the
 * billing worker when the grant (with an expiry or a recurrence) appears in the catalog. Each step
 * records in the customer's credit ledger the expiries and occurrences that came by today in the
 * customer's zone, and answers how long until the next one starts; the workflow sleeps that long on a
 * Temporal timer (which survives worker restarts) and asks again. A step is idempotent (record ids
 * derived from the grant and the occurrence), so a retried step, a restarted worker or a second run
 * record nothing twice. The wait comes from the step, not from the workflow's own clock: the dates and
 * the zone are the activity's business, the workflow only sleeps. Ends when nothing more will come.
 */
export async function creditGrantWorkflow(input: CreditGrantInput): Promise<CreditGrantState> {
  const acts = billingActivities(input);
  const state: CreditGrantState = { wakes: 0, recorded: [], ...input.state };
  setHandler(creditGrantProgressQuery, () => ({ ...state, recorded: [...state.recorded] }));
  const wakesPerRun = input.wakesPerRun ?? 100;
  for (let wakes = 0; ; wakes++) {
    if (wakes >= wakesPerRun || workflowInfo().continueAsNewSuggested)
      await continueAsNew<typeof creditGrantWorkflow>({ ...input, state: { ...state } });
    const step = await acts.creditGrantStep({
      tenant: input.tenant,
      customer: input.customer,
      grantId: input.grantId,
    });
    state.wakes++;
    state.recorded.push(...step.recorded);
    if (step.status === 'done') {
      delete state.next;
      return state;
    }
    state.next = step.next;
    await sleep(step.waitMs);
  }
}
