import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowBundlerHook, workflowsPath } from '@tally/temporal';

/**
 * Determinism guard: every history recorded from a real run (apps/billing-worker/test/*.int-spec.ts
 * with TALLY_RECORD_HISTORIES=1 writes them to __histories__, as protobuf JSON objects) is replayed against the workflow code
 * as it is now. A change that would make running workflows take another path (a new activity call,
 * a reordered timer) fails here with a DeterminismViolationError instead of in production.
 */
const dir = path.join(__dirname, '__histories__');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('workflow replay over recorded histories', () => {
  beforeAll(() => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // installed already
    }
  });

  it('has recorded histories of every billing workflow', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'billing-run-first.json',
        'billing-run-last.json',
        'customer-invoice.json',
        'invoice-batch.json',
        'rebill.json',
        'dead-letter-replay.json',
        'progressive-billing.json',
        'credit-grant.json',
      ]),
    );
  });

  it('replays each of them without a determinism violation', async () => {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath,
      webpackConfigHook: workflowBundlerHook(),
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });
    const histories = files.map((file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: temporal.api.history.v1.History.fromObject(
        JSON.parse(readFileSync(path.join(dir, file), 'utf8')),
      ),
    }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
