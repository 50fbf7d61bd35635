import type { DueCustomer, DueCustomersPage, DueCustomersRequest, PeriodRef } from '@tally/billing-contracts';
import { customerPeriod, periodsEndedBetween, type CustomerPeriod } from '@tally/billing-periods';
import { customerTimeZone } from '@tally/catalog';
import { mapLimit, upperBound } from './collections';
import type { BillingCatalogPort, ClosedPeriodsPort } from './ports';

/** Which customers' periods are due for billing, and what each period covers. */
export class DuePeriods {
  constructor(
    private readonly catalog: BillingCatalogPort,
    private readonly closed: Pick<ClosedPeriodsPort, 'get'>,
  ) {}

  /** The customer's zone (its own, else its tenant's); undefined for an unknown tenant. */
  timezoneOf(tenant: string, customer: string): string | undefined {
    const t = this.catalog.getTenant(tenant);
    if (!t) return undefined;
    return customerTimeZone(this.catalog.getCustomer(tenant, customer) ?? {}, t);
  }

  /** One page of the tenant's customers whose period ended in the run's window and is not closed yet. */
  async dueCustomers(req: DueCustomersRequest): Promise<DueCustomersPage> {
    const all = this.catalog.customersWithSubscriptions(req.tenant);
    const start = req.after === undefined ? 0 : upperBound(all, req.after);
    const page = all.slice(start, start + req.limit);
    const afterMs = req.atMs - req.lookbackHours * 3_600_000;
    const candidates: DueCustomer[] = [];
    for (const customer of page) {
      const tz = this.timezoneOf(req.tenant, customer);
      if (!tz) continue;
      const subs = this.catalog.subscriptionsOf(req.tenant, customer);
      for (const p of periodsEndedBetween(subs, tz, afterMs, req.atMs)) {
        candidates.push({ customer, period: p.period, endsAtMs: p.toMs });
      }
    }
    const closed = await mapLimit(candidates, 32, (c) => this.closed.get(req.tenant, c.customer, c.period));
    const due = candidates.filter((_, i) => closed[i] === undefined);
    const next = start + req.limit < all.length ? page.at(-1) : undefined;
    return { due, scanned: page.length, ...(next !== undefined ? { next } : {}) };
  }

  /** The billable period of each customer (undefined: no active subscription), e.g. for the grace timer. */
  describePeriods(tenant: string, refs: readonly PeriodRef[]): Array<CustomerPeriod | undefined> {
    return refs.map((r) => {
      const tz = this.timezoneOf(tenant, r.customer);
      return tz ? customerPeriod(this.catalog.subscriptionsOf(tenant, r.customer), r.period, tz) : undefined;
    });
  }
}
