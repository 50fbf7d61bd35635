import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsAction,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';

/** A schedule that starts one workflow at a fixed interval. */
export interface IntervalSchedule {
  scheduleId: string;
  /** Interval between runs, e.g. `1 hour`. */
  every: string;
  /** Offset of the runs inside the interval, e.g. `5 minutes` after the hour. */
  offset?: string;
  workflowType: string;
  /** Temporal appends the scheduled time to it, so every run has its own id. */
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  searchAttributes?: SearchAttributePair[];
}

function action(s: IntervalSchedule): ScheduleOptionsAction {
  return {
    type: 'startWorkflow',
    workflowType: s.workflowType,
    workflowId: s.workflowId,
    taskQueue: s.taskQueue,
    args: s.args,
    ...(s.searchAttributes ? { typedSearchAttributes: s.searchAttributes } : {}),
  };
}

/**
 * Creates the schedule, or brings an existing one to this definition. Runs never overlap (a run still
 * going when the next is due makes the next one skip), and runs missed while Temporal was down are
 * caught up for a day. Safe to call from several workers at once.
 */
export async function upsertIntervalSchedule(
  client: Client,
  s: IntervalSchedule,
): Promise<'created' | 'updated'> {
  const spec = { intervals: [{ every: s.every, ...(s.offset ? { offset: s.offset } : {}) }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' };
  try {
    await client.schedule.create({ scheduleId: s.scheduleId, spec, action: action(s), policies });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(s.scheduleId).update((previous) => ({
    ...previous,
    spec,
    action: action(s),
    policies: { ...previous.policies, ...policies },
  }));
  return 'updated';
}

/** Deletes a schedule; one that is not there is fine. Workflows it already started keep running. */
export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
}
