import { creditEntriesOf, unitLedgerOf, type InvoiceLedgerPort } from '@tally/billing';
import { localDateOf } from '@tally/billing-periods';
import { customerTimeZone, type CatalogProjection, type Customer, type Tenant } from '@tally/catalog';
import { BadRequestError, NotFoundError } from '@tally/errors';
import { METER_KEY_PATTERN } from '@tally/metering';
import {
  creditBalance,
  isLocalDate,
  unitGrantBalance,
  type CreditBalance,
  type UnitGrantBalance,
} from '@tally/pricing';

/**
 * A customer's prepaid credit balance (docs/finance.md#prepaid-credits): the catalog's grants and voids
 * with the draws of every invoice in the ledger, replayed up to a local date.
 */
export class CreditBalanceService {
  constructor(
    private readonly catalog: Pick<CatalogProjection, 'getTenant' | 'getCustomer'>,
    private readonly ledger: Pick<InvoiceLedgerPort, 'listForCustomer'>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** `asOf`: a local date `YYYY-MM-DD` (default: today in the customer's zone); `currency`: the tenant's by default. */
  async balance(
    tenant: string,
    customerId: string,
    asOf?: string,
    currency?: string,
  ): Promise<CreditBalance> {
    const scope = this.scope(tenant, customerId, asOf);
    if (currency !== undefined && !/^[A-Z]{3}$/.test(currency))
      throw new BadRequestError('INVALID_CURRENCY', `currency '${currency}' is not an ISO 4217 code`);
    return this.money(await this.read(scope), currency);
  }

  /**
   * The units of `meter` the customer's unit grants still hold on `asOf` (docs/finance.md#unit-grants):
   * the catalog's unit grants with the unit draws of every invoice in the ledger.
   */
  async unitBalance(
    tenant: string,
    customerId: string,
    meter: string,
    asOf?: string,
  ): Promise<UnitGrantBalance> {
    const scope = this.scope(tenant, customerId, asOf);
    checkMeter(meter);
    return this.units(await this.read(scope), meter);
  }

  /** Both balances today, from one read of the ledger (an entitlement check shows them side by side). */
  async balances(
    tenant: string,
    customerId: string,
    meter: string,
  ): Promise<{ credit: CreditBalance; units: UnitGrantBalance }> {
    const scope = this.scope(tenant, customerId);
    checkMeter(meter);
    const ledger = await this.read(scope);
    return { credit: this.money(ledger), units: this.units(ledger, meter) };
  }

  /** The customer and the local date the balances are replayed to (today in its zone by default). */
  private scope(tenant: string, customerId: string, asOf?: string): Omit<CustomerLedger, 'documents'> {
    const t = this.catalog.getTenant(tenant);
    const customer = this.catalog.getCustomer(tenant, customerId);
    if (!t || !customer) throw new NotFoundError('Customer', customerId);
    if (asOf !== undefined && !isLocalDate(asOf))
      throw new BadRequestError('INVALID_DATE', `asOf '${asOf}' is not a date YYYY-MM-DD`);
    return { tenant: t, customer, date: asOf ?? localDateOf(this.clock(), customerTimeZone(customer, t)) };
  }

  /** The customer's invoices, with what `scope` resolved. */
  private async read(scope: Omit<CustomerLedger, 'documents'>): Promise<CustomerLedger> {
    return { ...scope, documents: await this.ledger.listForCustomer(scope.tenant.id, scope.customer.id) };
  }

  private money(l: CustomerLedger, currency?: string): CreditBalance {
    return creditBalance(creditEntriesOf(l.customer, l.documents), currency ?? l.tenant.currency, l.date);
  }

  private units(l: CustomerLedger, meter: string): UnitGrantBalance {
    const { grants, draws } = unitLedgerOf(l.customer, l.documents);
    return unitGrantBalance(grants, draws, meter, l.date);
  }
}

interface CustomerLedger {
  tenant: Tenant;
  customer: Customer;
  date: string;
  documents: Awaited<ReturnType<InvoiceLedgerPort['listForCustomer']>>;
}

function checkMeter(meter: string): void {
  if (!METER_KEY_PATTERN.test(meter))
    throw new BadRequestError('INVALID_METER', `meter '${meter}' is not a meter key`);
}
