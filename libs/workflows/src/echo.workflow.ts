import { proxyActivities } from '@temporalio/workflow';
import type { EchoActivities } from '@tally/activities';

const { echo } = proxyActivities<EchoActivities>({ startToCloseTimeout: '10 seconds' });

/** Round trip through a worker: used by health probes and the infrastructure test. */
export async function echoWorkflow(message: string): Promise<string> {
  return echo(message);
}
