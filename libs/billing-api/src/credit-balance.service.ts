import { creditEntriesOf, unitLedgerOf, type InvoiceLedgerPort } from '@tally/billing';
import { localDateOf } from '@tally/billing-periods';
import { customerTimeZone, type CatalogProjection } from '@tally/catalog';
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
    const t = this.catalog.getTenant(tenant);
    const customer = this.catalog.getCustomer(tenant, customerId);
    if (!t || !customer) throw new NotFoundError('Customer', customerId);
    if (asOf !== undefined && !isLocalDate(asOf))
      throw new BadRequestError('INVALID_DATE', `asOf '${asOf}' is not a date YYYY-MM-DD`);
    if (currency !== undefined && !/^[A-Z]{3}$/.test(currency))
      throw new BadRequestError('INVALID_CURRENCY', `currency '${currency}' is not an ISO 4217 code`);
    const date = asOf ?? localDateOf(this.clock(), customerTimeZone(customer, t));
    const documents = await this.ledger.listForCustomer(tenant, customerId);
    return creditBalance(creditEntriesOf(customer, documents), currency ?? t.currency, date);
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
    const t = this.catalog.getTenant(tenant);
    const customer = this.catalog.getCustomer(tenant, customerId);
    if (!t || !customer) throw new NotFoundError('Customer', customerId);
    if (asOf !== undefined && !isLocalDate(asOf))
      throw new BadRequestError('INVALID_DATE', `asOf '${asOf}' is not a date YYYY-MM-DD`);
    if (!METER_KEY_PATTERN.test(meter))
      throw new BadRequestError('INVALID_METER', `meter '${meter}' is not a meter key`);
    const date = asOf ?? localDateOf(this.clock(), customerTimeZone(customer, t));
    const { grants, draws } = unitLedgerOf(customer, await this.ledger.listForCustomer(tenant, customerId));
    return unitGrantBalance(grants, draws, meter, date);
  }
}
