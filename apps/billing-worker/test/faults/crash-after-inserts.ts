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
const crash = Number.isSafeInteger(after) && after > 0;
/** `BILLING_WORKER_TEST_LOG_INSERTS=1`: one stderr line per non-empty insert (which worker stored what). */
const log = process.env['BILLING_WORKER_TEST_LOG_INSERTS'] === '1';
if (crash || log) {
  const insert = InvoiceLedger.prototype.insert;
  let inserts = 0;
  InvoiceLedger.prototype.insert = async function (this: InvoiceLedger, docs) {
    await insert.call(this, docs);
    if (docs.length === 0) return;
    ++inserts;
    if (log) process.stderr.write(`test: invoice insert ${inserts}: ${docs.map((d) => d.invoiceId).join(' ')}\n`);
    if (!crash || inserts < after) return;
    process.stderr.write(`test fault injection: killing the worker after invoice insert ${inserts}\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
