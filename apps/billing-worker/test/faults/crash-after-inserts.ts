/**
 * Test-only fault injection, never part of the production build: `startService` (libs/testing) preloads
 * every compiled module of `apps/<app>/test/faults/` with `node -r`, and this one acts only when
 * `BILLING_WORKER_TEST_CRASH_AFTER_INSERTS=<n>` (n > 0): the worker is SIGKILLed right after its n-th
 * non-empty invoice-ledger insert, invoices stored but the activity not completed, the worst moment to
 * die (worker-crash.int-spec.ts).
 *
 * It patches the class the compiled worker itself loads (the same dist/ module), so the production code
 * has no hook, flag or branch for it.
 */
import { InvoiceLedger } from '@tally/billing';

const after = Number(process.env['BILLING_WORKER_TEST_CRASH_AFTER_INSERTS'] ?? '0');
if (Number.isSafeInteger(after) && after > 0) {
  const insert = InvoiceLedger.prototype.insert;
  let inserts = 0;
  InvoiceLedger.prototype.insert = async function (this: InvoiceLedger, docs) {
    await insert.call(this, docs);
    if (docs.length === 0 || ++inserts < after) return;
    process.stderr.write(`test fault injection: killing the worker after invoice insert ${inserts}\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
