import type { Client } from '@temporalio/client';
import { TemporalHealth } from './health';

/** A client whose frontend answers `GetSystemInfo` as `answer` does; calls are counted. */
function fakeClient(answer: () => Promise<unknown>) {
  const calls = { systemInfo: 0, deadline: 0 };
  const client = {
    connection: {
      withDeadline: async (deadline: number, fn: () => Promise<unknown>) => {
        calls.deadline = deadline;
        return fn();
      },
    },
    workflowService: {
      getSystemInfo: async () => {
        calls.systemInfo++;
        return answer();
      },
    },
  } as unknown as Client;
  return { client, calls };
}

describe('TemporalHealth', () => {
  it('passes while the worker runs and the frontend answers, within the deadline it sets', async () => {
    const { client, calls } = fakeClient(async () => ({}));
    const started = Date.now();
    await new TemporalHealth(client, () => 'RUNNING', 1_500).check();
    expect(calls.systemInfo).toBe(1);
    expect(calls.deadline).toBeGreaterThanOrEqual(started + 1_500);
  });

  it('fails naming the worker state when the worker is not polling, without asking the frontend', async () => {
    const { client, calls } = fakeClient(async () => ({}));
    await expect(new TemporalHealth(client, () => 'DRAINING').check()).rejects.toThrow('worker draining');
    expect(calls.systemInfo).toBe(0);
  });

  it('fails when the frontend does not answer', async () => {
    const { client } = fakeClient(async () => {
      throw new Error('14 UNAVAILABLE: connection refused');
    });
    await expect(new TemporalHealth(client, () => 'RUNNING').check()).rejects.toThrow('UNAVAILABLE');
  });
});
