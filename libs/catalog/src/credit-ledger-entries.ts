/**
 * Top-ups, grants and voids through the API (docs/finance.md#prepaid-credits): one entry appended to a
 * customer's credit ledger (`billing.credits`), never an edit. The store refuses edits and removals
 * (`CREDIT_LEDGER_APPEND_ONLY`); this service appends with optimistic concurrency, so two concurrent
 * appends cannot lose one another (the second gets 409 and is retried by the caller).
 */
import { ConflictError, NotFoundError, ValidationFailedError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import type { CatalogStore } from './catalog-store';
import {
  creditEntrySchema,
  type CreditLedgerEntry,
  type CreditTimerLedgerEntry,
  type Customer,
} from './entities';
import type { Versioned } from './kv';
import { unitGrantIssues } from './unit-grant-rules';

/** `getMeter`, when the store has it, lets a unit grant of an unknown meter be refused. */
export type CreditLedgerStorePort = Pick<CatalogStore, 'getCustomer' | 'putCustomer'> &
  Partial<Pick<CatalogStore, 'getMeter'>>;

export class CreditLedgerEntries {
  constructor(private readonly store: CreditLedgerStorePort) {}

  /** Appends `body` (a `grant`, a `unit_grant` or a `void`) and answers the entry and the customer's new revision. */
  async append(
    tenant: string,
    customer: string,
    body: unknown,
  ): Promise<{ entry: CreditLedgerEntry; revision: number }> {
    const parsed = creditEntrySchema.safeParse(body);
    if (!parsed.success) throw new ValidationFailedError(fieldIssuesFromZod(parsed.error));
    const entry = parsed.data;
    const found = await this.store.getCustomer(tenant, customer);
    if (!found) throw new NotFoundError('Customer', customer);
    const ledger = found.value.billing?.credits ?? [];
    if (ledger.some((e) => e.id === entry.id))
      throw new ValidationFailedError([
        { field: 'id', code: 'DUPLICATE_ID', message: `the ledger already has an entry '${entry.id}'` },
      ]);
    if (entry.type === 'unit_grant') {
      const meter = this.store.getMeter
        ? (await this.store.getMeter(tenant, entry.meter)) !== undefined
        : undefined;
      const issues = unitGrantIssues(entry, meter);
      if (issues.length) throw new ValidationFailedError(issues);
    }
    if (entry.type === 'void') {
      const grant = ledger.find(
        (e) => (e.type === 'grant' || e.type === 'unit_grant') && e.id === entry.grantId,
      );
      if (!grant)
        throw new ValidationFailedError([
          { field: 'grantId', code: 'UNKNOWN_GRANT', message: `no grant '${entry.grantId}' to void` },
        ]);
      if (ledger.some((e) => e.type === 'void' && e.grantId === entry.grantId))
        throw new ValidationFailedError([
          { field: 'grantId', code: 'ALREADY_VOIDED', message: `grant '${entry.grantId}' is already voided` },
        ]);
    }
    const written: Versioned<Customer> = await this.store.putCustomer(
      { ...found.value, billing: { ...found.value.billing, credits: [...ledger, entry] } },
      { expectedRevision: found.revision },
    );
    return { entry, revision: written.revision };
  }

  /**
   * Appends what a grant's timer saw come (`expiry`/`recurrence` records, ids derived from the grant and
   * the occurrence): records already in the ledger are skipped, so recording again (a retried activity,
   * a restarted worker, the workflow started twice) appends nothing. Optimistic concurrency as for
   * `append`; a revision conflict (a top-up written meanwhile) is read again and retried here.
   * Answers the ids it appended.
   */
  async record(
    tenant: string,
    customer: string,
    records: readonly CreditTimerLedgerEntry[],
    attempts = 5,
  ): Promise<string[]> {
    for (let attempt = 1; ; attempt++) {
      const found = await this.store.getCustomer(tenant, customer);
      if (!found) throw new NotFoundError('Customer', customer);
      const ledger = found.value.billing?.credits ?? [];
      const byId = new Map(ledger.map((e) => [e.id, e]));
      const fresh = records.filter((r) => {
        const seen = byId.get(r.id);
        if (seen && JSON.stringify(seen) !== JSON.stringify(r))
          throw new ValidationFailedError([
            { field: 'id', code: 'DUPLICATE_ID', message: `the ledger already has another entry '${r.id}'` },
          ]);
        return !seen;
      });
      if (!fresh.length) return [];
      try {
        await this.store.putCustomer(
          { ...found.value, billing: { ...found.value.billing, credits: [...ledger, ...fresh] } },
          { expectedRevision: found.revision },
        );
        return fresh.map((r) => r.id);
      } catch (error) {
        if (attempt >= attempts || !(error instanceof ConflictError)) throw error;
      }
    }
  }
}
