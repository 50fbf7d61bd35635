import type { UsageEvent } from '@tally/event-schema';
import type { DeadLetterReason } from './dead-letters/dead-letter';

/** Port: catalog checks the writer applies (e.g. unknown tenant, unknown customer). */
export interface EventAdmission {
  check(tenant: string, event: Pick<UsageEvent, 'customer'>): { reason: DeadLetterReason; message: string } | undefined;
}

/** The part of the catalog the writer consults for every event: kept in memory, never a round trip. */
export interface AdmissionCatalog {
  getTenant(tenant: string): { requireKnownCustomers?: boolean } | undefined;
  hasCustomer(tenant: string, customer: string): boolean;
}

/**
 * Checks events against today's catalog; what fails is dead-lettered and can be replayed once fixed.
 * The writer admits with it and a dead-letter replay re-checks with it: one rule for both.
 */
export class CatalogAdmission implements EventAdmission {
  constructor(private readonly catalog: AdmissionCatalog) {}

  check(tenant: string, event: UsageEvent): { reason: DeadLetterReason; message: string } | undefined {
    const settings = this.catalog.getTenant(tenant);
    if (!settings) return { reason: 'UNKNOWN_TENANT', message: `Tenant '${tenant}' is not in the catalog` };
    if (settings.requireKnownCustomers && !this.catalog.hasCustomer(tenant, event.customer)) {
      return { reason: 'UNKNOWN_CUSTOMER', message: `Customer '${event.customer}' is not in the catalog of tenant '${tenant}'` };
    }
    return undefined;
  }
}
