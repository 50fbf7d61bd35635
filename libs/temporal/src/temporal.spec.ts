import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import pino from 'pino';
import { workflowBundlerHook, workflowsPath } from './bundle';
import { temporalLogger } from './logger';
import { deleteSchedule, upsertIntervalSchedule, type IntervalSchedule } from './schedules';
import { billingSearchAttributes as searchAttributes } from '@tally/billing-contracts';

const { compilerOptions } = require('../../../tsconfig.base.json') as {
  compilerOptions: { paths: Record<string, string[]> };
};

describe('workflow bundle', () => {
  it('resolves every @tally alias of tsconfig.base.json to an existing file, keeping the config it was given', () => {
    const hook = workflowBundlerHook();
    const given = {
      mode: 'development' as const,
      resolve: { alias: { existing: '/x' }, extensions: ['.ts'] },
    };
    const result = hook(given as never) as {
      mode: string;
      resolve: { alias: Record<string, string>; extensions: string[] };
    };
    expect(result.mode).toBe('development');
    expect(result.resolve.extensions).toEqual(['.ts']);
    expect(result.resolve.alias.existing).toBe('/x');
    const names = Object.keys(compilerOptions.paths);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) {
      // `$`: exact-match aliases, so `@tally/x/deep` is not silently redirected.
      const target = result.resolve.alias[`${name}$`];
      expect(target).toBe(path.resolve(__dirname, '../../..', compilerOptions.paths[name][0]));
      expect(existsSync(target)).toBe(true);
    }
  });

  it('points the worker at the workflows lib entry', () => {
    expect(path.relative(path.resolve(__dirname, '../../..'), workflowsPath)).toBe(
      'libs/workflows/src/index.ts',
    );
    expect(existsSync(workflowsPath)).toBe(true);
  });
});

/** The slice of Temporal's schedule client the helpers use, recording what they asked for. */
function fakeScheduleClient(create: (options: ScheduleOptions) => Promise<unknown>) {
  const calls: string[] = [];
  let updated: unknown;
  const previous = {
    spec: { intervals: [{ every: '1 day' }] },
    action: { type: 'startWorkflow', workflowType: 'old' },
    policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: '1 minute', pauseOnFailure: true },
    state: { paused: false },
  };
  let deleteError: unknown;
  const client = {
    schedule: {
      create: async (options: ScheduleOptions) => {
        calls.push(`create ${options.scheduleId}`);
        return create(options);
      },
      getHandle: (id: string) => ({
        update: async (fn: (p: typeof previous) => unknown) => {
          calls.push(`update ${id}`);
          updated = fn(previous);
        },
        delete: async () => {
          calls.push(`delete ${id}`);
          if (deleteError) throw deleteError;
        },
      }),
    },
  } as unknown as Client;
  return {
    client,
    calls,
    updated: () => updated,
    failDeleteWith: (e: unknown) => (deleteError = e),
  };
}

const SCHEDULE: IntervalSchedule = {
  scheduleId: 'tally-billing',
  every: '1 hour',
  offset: '5 minutes',
  workflowType: 'billingSweep',
  workflowId: 'billing-sweep',
  taskQueue: 'q',
  args: [{ tenant: 'acme' }],
  searchAttributes: [{ key: searchAttributes.kind, value: 'sweep' }],
};

/** The start action SCHEDULE describes, without search attributes. */
const START_ACTION = {
  type: 'startWorkflow',
  workflowType: 'billingSweep',
  workflowId: 'billing-sweep',
  taskQueue: 'q',
  args: [{ tenant: 'acme' }],
};

describe('interval schedules', () => {
  it('creates a schedule that never overlaps and catches up for a day', async () => {
    let created: ScheduleOptions | undefined;
    const fake = fakeScheduleClient(async (options) => (created = options));
    expect(await upsertIntervalSchedule(fake.client, SCHEDULE)).toBe('created');
    expect(fake.calls).toEqual(['create tally-billing']);
    expect(created).toEqual({
      scheduleId: 'tally-billing',
      spec: { intervals: [{ every: '1 hour', offset: '5 minutes' }] },
      action: { ...START_ACTION, typedSearchAttributes: SCHEDULE.searchAttributes },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    });
  });

  it('brings an existing schedule to the definition, keeping its other settings', async () => {
    const fake = fakeScheduleClient(async () => {
      throw new ScheduleAlreadyRunning('exists', 'tally-billing');
    });
    const { offset: _offset, searchAttributes: _attributes, ...plain } = SCHEDULE;
    expect(await upsertIntervalSchedule(fake.client, plain)).toBe('updated');
    expect(fake.calls).toEqual(['create tally-billing', 'update tally-billing']);
    expect(fake.updated()).toEqual({
      spec: { intervals: [{ every: '1 hour' }] },
      action: START_ACTION,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day', pauseOnFailure: true },
      state: { paused: false },
    });
  });

  it('passes on any other failure to create', async () => {
    const fake = fakeScheduleClient(async () => {
      throw new Error('namespace not found');
    });
    await expect(upsertIntervalSchedule(fake.client, SCHEDULE)).rejects.toThrow('namespace not found');
    expect(fake.calls).toEqual(['create tally-billing']);
  });

  it('deletes a schedule, and a missing one is fine but another failure is not', async () => {
    const fake = fakeScheduleClient(async () => undefined);
    await deleteSchedule(fake.client, 'a');
    fake.failDeleteWith(new ScheduleNotFoundError('gone', 'b'));
    await deleteSchedule(fake.client, 'b');
    fake.failDeleteWith(new Error('unavailable'));
    await expect(deleteSchedule(fake.client, 'c')).rejects.toThrow('unavailable');
    expect(fake.calls).toEqual(['delete a', 'delete b', 'delete c']);
  });
});

describe('temporalLogger', () => {
  it("writes the SDK's lines through pino at their level, marked as the SDK's", () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = temporalLogger(
      pino({ level: 'trace' }, { write: (l: string) => void lines.push(JSON.parse(l)) }),
    );
    logger.warn('worker state changed', { state: 'DRAINING' });
    logger.log('ERROR', 'workflow task failed');
    logger.trace('polling');
    expect(lines.map((l) => [l.level, l.component, l.msg, l.state])).toEqual([
      [40, 'temporal-sdk', 'worker state changed', 'DRAINING'],
      [50, 'temporal-sdk', 'workflow task failed', undefined],
      [10, 'temporal-sdk', 'polling', undefined],
    ]);
  });
});
