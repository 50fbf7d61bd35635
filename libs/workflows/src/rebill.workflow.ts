import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RebillInput, RebillState } from '@tally/activities';
import { billingActivities } from './billing-activities';
import { LATE_EVENTS_SIGNAL, PROGRESS_QUERY } from './search-attributes';

export const lateEventsSignal = defineSignal<[string[]]>(LATE_EVENTS_SIGNAL);
export const rebillProgressQuery = defineQuery<RebillState & { pending: number }>(PROGRESS_QUERY);

/**
 * Late events of one closed period: `rebill/<tenant>/<customer>/<period>`, signalled with start by the
 * writer with the ids of events stored after the period closed. It waits until no new late event came
 * for the quiet window (a wave), recomputes the period and, if the events counted changed, issues one
 * adjustment for the wave. Later waves get their own adjustments. A signal repeated with ids that were
 * already billed makes the recomputation find the same fingerprint, so it never issues a second one.
 * After `idleSeconds` without late events it ends; the next late event starts it again.
 */
export async function rebillWorkflow(input: RebillInput): Promise<RebillState> {
  const acts = billingActivities(input);
  const state: RebillState = input.state ?? { waves: 0, adjustments: 0, pendingEventIds: [] };
  const pending = new Set<string>(state.pendingEventIds);
  let signals = 0;
  setHandler(lateEventsSignal, (ids) => {
    for (const id of ids) pending.add(id);
    signals++;
  });
  setHandler(rebillProgressQuery, () => ({ ...state, pendingEventIds: [], pending: pending.size }));
  const quietMs = (input.quietSeconds ?? 300) * 1000;
  const idleMs = (input.idleSeconds ?? 86_400) * 1000;
  const wavesPerRun = input.wavesPerRun ?? 20;
  let wavesThisRun = 0;

  for (;;) {
    if (pending.size === 0 && !(await condition(() => pending.size > 0, idleMs))) return state;
    // Debounce: a wave ends when the quiet window passes without another signal.
    for (;;) {
      const seen = signals;
      if (!(await condition(() => signals !== seen, quietMs))) break;
    }
    pending.clear();
    const outcome = await acts.rebill({
      tenant: input.tenant,
      customer: input.customer,
      period: input.period,
      owner: workflowInfo().workflowId,
    });
    state.waves++;
    wavesThisRun++;
    if (outcome.status === 'adjusted') state.adjustments++;
    if (wavesThisRun >= wavesPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof rebillWorkflow>({
        ...input,
        state: { ...state, pendingEventIds: [...pending] },
      });
    }
  }
}
