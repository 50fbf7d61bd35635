import type { CreditGrantStep, CreditGrantStepRequest } from '@tally/billing-contracts';
import { localDateOf, startOfDate } from '@tally/billing-periods';
import {
  CreditLedgerEntries,
  customerTimeZone,
  type CatalogStore,
  type CreditTimerLedgerEntry,
} from '@tally/catalog';
import { creditGrantTimers } from '@tally/pricing';
import type { InvoiceLedgerPort } from '../core/ports';
import { creditEntriesOf } from '../invoices/finance';

/** Where the credit ledger is read and appended to (the catalog store: revisions for optimistic concurrency). */
export type CreditLedgerWriterPort = Pick<CatalogStore, 'getTenant' | 'getCustomer' | 'putCustomer'>;

/**
 * One step of a grant's durable timers (`creditGrantWorkflow`, docs/finance.md#expiry-and-recurrence-timers):
 * records the grant's expiries and occurrences that came by today in the customer's zone, and says how
 * long until the next one starts.
 *
 * At-least-once: the workflow calls this after each timer and Temporal retries it until it completes,
 * so it may run twice for one wake (a worker killed after the append, before the completion reached
 * Temporal), or a second workflow run may ask again. Record ids are derived from the grant, the
 * occurrence and the event, and the append skips ids already in the ledger, under the customer's
 * revision (a top-up written meanwhile makes it read again): a record is in the ledger once, whoever
 * asked how often. A wake that comes early (clock skew) records nothing and answers the rest of the wait.
 */
export class CreditTimers {
  private readonly entries: CreditLedgerEntries;

  constructor(
    private readonly store: CreditLedgerWriterPort,
    private readonly ledger: Pick<InvoiceLedgerPort, 'listForCustomer'>,
    private readonly clock: () => number = Date.now,
  ) {
    this.entries = new CreditLedgerEntries(store);
  }

  async step(req: CreditGrantStepRequest): Promise<CreditGrantStep> {
    const [tenant, customer] = await Promise.all([
      this.store.getTenant(req.tenant),
      this.store.getCustomer(req.tenant, req.customer),
    ]);
    if (!tenant || !customer) return { status: 'done', recorded: [], reason: 'unknown_customer' };
    const zone = customerTimeZone(customer.value, tenant.value);
    const now = this.clock();
    const today = localDateOf(now, zone);
    // Draws decide which rollovers exist: the ledger's documents, as for the balance and the invoices.
    const documents = await this.ledger.listForCustomer(req.tenant, req.customer);
    const timers = creditGrantTimers(creditEntriesOf(customer.value, documents), req.grantId, today);
    if (!timers.grant) return { status: 'done', recorded: [], reason: 'unknown_grant' };
    const records: CreditTimerLedgerEntry[] = timers.due.map((d) => ({
      type: d.kind,
      id: d.entryId,
      grantId: req.grantId,
      bucketId: d.bucketId,
      date: d.date,
    }));
    const recorded = records.length ? await this.entries.record(req.tenant, req.customer, records) : [];
    if (timers.next === undefined) return { status: 'done', recorded, reason: 'ended' };
    return {
      status: 'waiting',
      recorded,
      next: timers.next,
      waitMs: Math.max(0, startOfDate(timers.next, zone) - now),
    };
  }
}
