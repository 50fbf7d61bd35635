import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createEchoActivities } from '@tally/activities';
import { workflowBundlerHook, workflowsPath } from '@tally/temporal';
import { randomPrefix, testTemporalAddress } from '@tally/testing';
import { echoWorkflow } from './echo.workflow';

describe('Temporal round trip (real dev server)', () => {
  it('runs a workflow and its activity on a throw-away task queue', async () => {
    const taskQueue = randomPrefix('tq');
    const nativeConnection = await NativeConnection.connect({ address: testTemporalAddress() });
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath,
      bundlerOptions: { webpackConfigHook: workflowBundlerHook() },
      activities: createEchoActivities({ workerName: 'int-spec' }),
    });
    const connection = await Connection.connect({ address: testTemporalAddress() });
    const client = new Client({ connection });
    try {
      const result = await worker.runUntil(
        client.workflow.execute(echoWorkflow, { taskQueue, workflowId: `${taskQueue}-echo`, args: ['hello'] }),
      );
      expect(result).toBe('hello (via int-spec)');
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});
