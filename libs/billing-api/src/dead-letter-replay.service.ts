import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { NotFoundError, ValidationFailedError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import { z } from 'zod';
import { DEAD_LETTER_REASONS } from '@tally/billing';
import {
  BILLING_WORKFLOWS,
  billingAttributes,
  billingWorkflowIds,
  PROGRESS_QUERY,
  type DeadLetterReplayInput,
  type DeadLetterReplayProgress,
} from '@tally/billing-contracts';

export const replayRequestSchema = z
  .object({
    filter: z
      .object({
        reason: z.enum(DEAD_LETTER_REASONS).optional(),
        customer: z.string().min(1).max(256).optional(),
        fromSeq: z.number().int().min(1).optional(),
      })
      .strict()
      .default({}),
    /** Required on purpose: an operator says whether this replay publishes anything. */
    dryRun: z.boolean({ required_error: 'say whether this is a dry run: true or false' }),
  })
  .strict();
export type ReplayRequest = z.infer<typeof replayRequestSchema>;

export interface ReplayStarted {
  replayId: string;
  workflowId: string;
  status: string;
}

export type ReplayStatus = DeadLetterReplayProgress & { workflowStatus: string };

/**
 * Starts dead-letter replays as workflows (`dead-letter-replay/<tenant>/<replayId>`) and reports on
 * them; always for the tenant of the caller's key.
 */
export class DeadLetterReplayService {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly newId: () => string = () => randomUUID(),
  ) {}

  async start(tenant: string, body: unknown): Promise<ReplayStarted> {
    const parsed = replayRequestSchema.safeParse(body ?? {});
    if (!parsed.success)
      throw new ValidationFailedError(fieldIssuesFromZod(parsed.error), 'Invalid replay request');
    const replayId = this.newId();
    const workflowId = billingWorkflowIds.deadLetterReplay(tenant, replayId);
    const input: DeadLetterReplayInput = {
      tenant,
      replayId,
      filter: parsed.data.filter,
      dryRun: parsed.data.dryRun,
    };
    await this.client.workflow.start(BILLING_WORKFLOWS.deadLetterReplay, {
      taskQueue: this.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: billingAttributes('dead-letter-replay', tenant),
    });
    return { replayId, workflowId, status: `/v1/dead-letters/replays/${replayId}` };
  }

  /** Counts so far (the workflow's `progress` query), or the final ones once it finished. */
  async status(tenant: string, replayId: string): Promise<ReplayStatus> {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(replayId)) throw new NotFoundError('Replay', replayId);
    const handle = this.client.workflow.getHandle(billingWorkflowIds.deadLetterReplay(tenant, replayId));
    try {
      const description = await handle.describe();
      const status = description.status.name;
      const progress =
        status === 'COMPLETED'
          ? ((await handle.result()) as DeadLetterReplayProgress)
          : await handle.query<DeadLetterReplayProgress>(PROGRESS_QUERY);
      return { ...progress, workflowStatus: status };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new NotFoundError('Replay', replayId);
      throw error;
    }
  }
}
