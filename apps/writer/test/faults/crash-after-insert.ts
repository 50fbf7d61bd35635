/**
 * Test-only fault injection, never part of the production build: `startService` (libs/testing) preloads
 * every compiled module of `apps/<app>/test/faults/` with `node -r`, and this one acts only when
 * `WRITER_TEST_CRASH_AFTER_INSERT=true`: the writer is SIGKILLed right after ClickHouse stored a batch
 * and before JetStream got the ack, the worst moment to die (ingestion-recovery.int-spec.ts).
 *
 * It patches the class the compiled writer itself loads (the same dist/ module), so the production code
 * has no hook, flag or branch for it.
 */
import { FencedEventStore } from '@tally/ingest';

if (process.env['WRITER_TEST_CRASH_AFTER_INSERT'] === 'true') {
  const insert = FencedEventStore.prototype.insert;
  FencedEventStore.prototype.insert = async function (this: FencedEventStore, events) {
    await insert.call(this, events);
    process.stderr.write(
      `test fault injection: killing the writer between insert and ack (${events.length} events)\n`,
    );
    process.kill(process.pid, 'SIGKILL');
  };
}
