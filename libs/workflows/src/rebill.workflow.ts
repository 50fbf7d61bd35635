import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  LATE_EVENTS_SIGNAL,
  PROGRESS_QUERY,
  type RebillInput,
  type RebillState,
} from '@tally/billing-contracts';
import { billingActivities } from './billing-activities';

/** How many late events: a count (from the billing worker), or ids (older writers, operators by hand). */
export const lateEventsSignal = defineSignal<[number | string[]]>(LATE_EVENTS_SIGNAL);
export const rebillProgressQuery = defineQuery<RebillState>(PROGRESS_QUERY);

/**
 * Late events of one closed period: `rebill/<tenant>/<customer>/<period>`, signalled with start by the
 * billing worker with the number of events stored after the period closed. It waits until no new late
 * event came for the quiet window (a wave), or until the wave has collected for `maxWaveSeconds`,
 * recomputes the period and, if the events counted changed, issues one adjustment for the wave. Later
 * waves get their own adjustments. A signal repeated for events already billed makes the recomputation
 * find the same fingerprint, so it never issues a second one. After `idleSeconds` without late events it
 * ends; the next late event starts it again.
 *
 * Bounded, however many signals come: the state is three numbers (no ids), and the workflow continues
 * as new once its history reaches `maxHistoryEvents`, also in the middle of a wave (the pending count and
 * the wave's start carry over), so a run's history stays near that size.
 */
export async function rebillWorkflow(input: RebillInput): Promise<RebillState> {
  const acts = billingActivities(input);
  const state: RebillState = { waves: 0, adjustments: 0, pending: 0, signalled: 0, ...input.state };
  let signals = 0;
  setHandler(lateEventsSignal, (late) => {
    const count = typeof late === 'number' ? late : late.length;
    const n = Number.isSafeInteger(count) && count > 0 ? count : 1;
    state.pending += n;
    state.signalled += n;
    signals++;
  });
  setHandler(rebillProgressQuery, () => ({ ...state }));
  const quietMs = (input.quietSeconds ?? 300) * 1000;
  const idleMs = (input.idleSeconds ?? 86_400) * 1000;
  const maxWaveMs = (input.maxWaveSeconds ?? 3_600) * 1000;
  const wavesPerRun = input.wavesPerRun ?? 20;
  const maxHistory = input.maxHistoryEvents ?? 1_000;
  let wavesThisRun = 0;
  const historyFull = () => workflowInfo().historyLength >= maxHistory || workflowInfo().continueAsNewSuggested;
  const carryOn = () => continueAsNew<typeof rebillWorkflow>({ ...input, state: { ...state } });

  for (;;) {
    if (state.pending === 0 && !(await condition(() => state.pending > 0, idleMs))) return state;
    state.waveStartedAt ??= Date.now();
    // Debounce: a wave ends when the quiet window passes without another signal, or when it is as
    // long as allowed.
    for (;;) {
      const seen = signals;
      const left = state.waveStartedAt + maxWaveMs - Date.now();
      if (left <= 0 || !(await condition(() => signals !== seen, Math.min(quietMs, left)))) break;
      if (historyFull()) await carryOn();
    }
    state.pending = 0;
    state.waveStartedAt = undefined;
    const outcome = await acts.rebill({
      tenant: input.tenant,
      customer: input.customer,
      period: input.period,
      owner: workflowInfo().workflowId,
    });
    state.waves++;
    wavesThisRun++;
    if (outcome.status === 'adjusted') state.adjustments++;
    if (wavesThisRun >= wavesPerRun || historyFull()) await carryOn();
  }
}
