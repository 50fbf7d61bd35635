import { continueAsNew, defineQuery, setHandler } from '@temporalio/workflow';
import type {
  DeadLetterReplayCounts,
  DeadLetterReplayInput,
  DeadLetterReplayProgress,
} from '@tally/activities';
import { billingActivities } from './billing-activities';
import { PROGRESS_QUERY } from './search-attributes';

export const deadLetterReplayProgressQuery = defineQuery<DeadLetterReplayProgress>(PROGRESS_QUERY);

function add(a: DeadLetterReplayCounts, b: DeadLetterReplayCounts): DeadLetterReplayCounts {
  const stillInvalid = { ...a.stillInvalid };
  for (const [reason, n] of Object.entries(b.stillInvalid))
    stillInvalid[reason] = (stillInvalid[reason] ?? 0) + n;
  return {
    scanned: a.scanned + b.scanned,
    matched: a.matched + b.matched,
    replayed: a.replayed + b.replayed,
    alreadyReplayed: a.alreadyReplayed + b.alreadyReplayed,
    stillInvalid,
    notReplayable: a.notReplayable + b.notReplayable,
  };
}

/**
 * Replays a tenant's dead letters: page by page through the dead-letter stream, each valid event
 * (against today's catalog) republished with its original id, the rest kept. `dryRun` only counts.
 * Returns (and answers the `progress` query with) the counts.
 */
export async function deadLetterReplayWorkflow(
  input: DeadLetterReplayInput,
): Promise<DeadLetterReplayProgress> {
  const acts = billingActivities(input);
  let counts: DeadLetterReplayCounts = input.state ?? {
    scanned: 0,
    matched: 0,
    replayed: 0,
    alreadyReplayed: 0,
    stillInvalid: {},
    notReplayable: 0,
  };
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
    counts = add(counts, page.counts);
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
