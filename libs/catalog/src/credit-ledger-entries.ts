/**
 * Top-ups, grants and voids through the API (docs/finance.md#prepaid-credits): one entry appended to a
 * customer's credit ledger (`billing.credits`), never an edit. The store refuses edits and removals
 * (`CREDIT_LEDGER_APPEND_ONLY`); this service appends with optimistic concurrency, so two concurrent
 * appends cannot lose one another (the second gets 409 and is retried by the caller).
 */
import { NotFoundError, ValidationFailedError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import type { CatalogStore } from './catalog-store';
import { creditEntrySchema, type CreditLedgerEntry, type Customer } from './entities';
import type { Versioned } from './kv';

export type CreditLedgerStorePort = Pick<CatalogStore, 'getCustomer' | 'putCustomer'>;

export class CreditLedgerEntries {
  constructor(private readonly store: CreditLedgerStorePort) {}

  /** Appends `body` (a `grant` or a `void`) and answers the entry and the customer's new revision. */
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
    if (entry.type === 'void') {
      const grant = ledger.find((e) => e.type === 'grant' && e.id === entry.grantId);
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
}
