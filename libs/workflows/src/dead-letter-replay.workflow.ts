import { continueAsNew, defineQuery, setHandler } from '@temporalio/workflow';
import {
  addReplayCounts,
  emptyReplayCounts,
  PROGRESS_QUERY,
  type DeadLetterReplayCounts,
  type DeadLetterReplayInput,
  type DeadLetterReplayProgress,
} from '@tally/billing-contracts';
import { billingActivities } from './billing-activities';

export const deadLetterReplayProgressQuery = defineQuery<DeadLetterReplayProgress>(PROGRESS_QUERY);

/**
 * Replays a tenant's dead letters: page by page through the dead-letter stream, each valid event
 * (against today's catalog) republished with its original id, the rest kept. `dryRun` only counts.
 * Returns (and answers the `progress` query with) the counts.
 */
export async function deadLetterReplayWorkflow(
  input: DeadLetterReplayInput,
): Promise<DeadLetterReplayProgress> {
  const acts = billingActivities(input);
  let counts: DeadLetterReplayCounts = input.state ?? emptyReplayCounts();
  let nextSeq = input.state?.nextSeq;
  let pages = input.state?.pages ?? 0;
  let done = false;
  const progress = (): DeadLetterReplayProgress => ({
    ...counts,
    tenant: input.tenant,
    replayId: input.replayId,
    dryRun: input.dryRun,
    pages,
    done,
  });
  setHandler(deadLetterReplayProgressQuery, progress);
  const pagesPerRun = input.pagesPerRun ?? 50;
  for (let pagesThisRun = 0; ;) {
    const page = await acts.replayDeadLetterPage({
      tenant: input.tenant,
      replayId: input.replayId,
      filter: input.filter,
      ...(nextSeq !== undefined ? { fromSeq: nextSeq } : {}),
      limit: input.pageSize ?? 500,
      dryRun: input.dryRun,
    });
    counts = addReplayCounts(counts, page.counts);
    pages++;
    pagesThisRun++;
    nextSeq = page.nextSeq;
    if (nextSeq === undefined) break;
    if (pagesThisRun >= pagesPerRun) {
      await continueAsNew<typeof deadLetterReplayWorkflow>({
        ...input,
        state: { ...counts, nextSeq, pages },
      });
    }
  }
  done = true;
  return progress();
}
