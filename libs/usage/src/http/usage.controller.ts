import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ValidationFailedError } from '@tally/errors';
import { WINDOW_SIZES } from '@tally/metering';
import { ApiKeyGuard, CurrentPrincipal, type Principal, Roles } from '@tally/nest-kit';
import { calendarMonth } from '@tally/billing-periods';
import { CompletenessEndpoint } from '../endpoints/completeness.endpoint';
import { CurrentUsageEndpoint } from '../endpoints/current-usage.endpoint';
import { CustomerUsageEndpoint } from '../endpoints/customer-usage.endpoint';
import { MeterQueryEndpoint } from '../endpoints/meter-query.endpoint';
import { UsageCatalog } from '../usage-catalog';
import type {
  CompletenessResult,
  CurrentUsageResult,
  CustomerUsageResult,
  EntitlementResult,
  MeterQueryResult,
  TopCustomersResult,
} from '../usage.types';
import { customerIdProblem, QueryParams, type QueryString } from './query-params';

const METER_QUERY_PARAMS = [
  'from',
  'to',
  'window',
  'timezone',
  'customer',
  'perCustomer',
  'groupBy',
  'filter',
  'profile',
  'limit',
];
const TOP_CUSTOMERS_PARAMS = ['from', 'to', 'limit', 'profile', 'filter'];
const CUSTOMER_USAGE_PARAMS = ['period', 'from', 'to', 'meter'];
const DEFAULT_TOP_CUSTOMERS = 10;

/**
 * HTTP driver of the usage API: decodes path and query string, hands over to the usage endpoints with the
 * tenant of the caller's key (never one from the request), and returns its JSON. Errors are typed
 * `TallyError`s, mapped to HTTP by the app's one exception filter.
 */
const TIME =
  'ISO 8601 time with Z or an offset (2026-03-01T00:00:00Z), or a date (2026-03-01) = local midnight';
const q = (name: string, description: string, isArray = false) =>
  ApiQuery({ name, required: false, description, isArray });

@ApiTags('usage')
@ApiBearerAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
@Roles('query')
export class UsageController {
  constructor(
    @Inject(UsageCatalog) private readonly catalog: UsageCatalog,
    @Inject(MeterQueryEndpoint) private readonly meters: MeterQueryEndpoint,
    @Inject(CustomerUsageEndpoint) private readonly customers: CustomerUsageEndpoint,
    @Inject(CurrentUsageEndpoint) private readonly current: CurrentUsageEndpoint,
    @Inject(CompletenessEndpoint) private readonly completeness: CompletenessEndpoint,
  ) {}

  @Get('usage/completeness')
  @ApiOperation({
    summary: "Up to when every acknowledged event of the caller's tenant is stored and queryable (docs/usage-api.md)",
  })
  completenessOf(@CurrentPrincipal() principal: Principal, @Query() query: QueryString): Promise<CompletenessResult> {
    new QueryParams(query, []).throwIfAny();
    return this.completeness.completenessOf(principal.tenant);
  }

  @Get('meters/:key/query')
  @ApiOperation({ summary: 'Usage of a meter: per window, customer and group (docs/usage-api.md)' })
  @ApiParam({ name: 'key', description: 'meter key' })
  @ApiQuery({ name: 'from', description: `start (inclusive): ${TIME}` })
  @ApiQuery({ name: 'to', description: `end (exclusive): ${TIME}` })
  @q('window', 'minute | hour | day | month | none (default)')
  @q('timezone', "IANA zone of windows and dates (default: the one customer's, else the tenant's)")
  @q('customer', 'only these customers (repeatable); rows are per customer', true)
  @q('perCustomer', 'true: one row per customer')
  @q('groupBy', "one of the meter's groupBy properties (repeatable)", true)
  @q('filter', 'a JSON filter {"property","operator","value"} (repeatable)', true)
  @q('profile', "one of the meter's profiles")
  @q('limit', 'most rows accepted; more is 422 RESULT_TOO_LARGE')
  meterQuery(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: QueryString,
  ): Promise<MeterQueryResult> {
    const p = new QueryParams(query, METER_QUERY_PARAMS);
    const customers = p.has('customer') ? p.customers('customer') : undefined;
    const explicitZone = p.has('timezone') ? p.timeZone('timezone', 'UTC') : undefined;
    // Dates without a time (from=2026-03-01) start at midnight of the zone the windows use.
    const zone =
      explicitZone ??
      (customers?.length === 1
        ? this.catalog.customerZone(principal.tenant, customers[0])
        : this.catalog.tenantZone(principal.tenant));
    const request = {
      meter: key,
      from: p.time('from', zone),
      to: p.time('to', zone),
      window: p.oneOf('window', WINDOW_SIZES, 'none'),
      timezone: explicitZone,
      customers,
      perCustomer: p.bool('perCustomer', false),
      groupBy: p.many('groupBy'),
      filters: p.filters('filter'),
      profile: p.one('profile'),
      limit: p.int('limit', this.catalog.limits.maxResultRows, 1, this.catalog.limits.maxResultRows),
    };
    p.throwIfAny();
    return this.meters.meterQuery(principal.tenant, {
      ...request,
      from: request.from as Date,
      to: request.to as Date,
    });
  }

  @Get('meters/:key/top-customers')
  @ApiOperation({ summary: 'The customers with the highest usage of a meter over a range' })
  @ApiParam({ name: 'key', description: 'meter key' })
  @ApiQuery({ name: 'from', description: TIME })
  @ApiQuery({ name: 'to', description: TIME })
  @q('limit', 'how many customers, 1-1000 (default 10)')
  @q('profile', "one of the meter's profiles")
  @q('filter', 'a JSON filter (repeatable)', true)
  topCustomers(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: QueryString,
  ): Promise<TopCustomersResult> {
    const p = new QueryParams(query, TOP_CUSTOMERS_PARAMS);
    const zone = this.catalog.tenantZone(principal.tenant);
    const from = p.time('from', zone);
    const to = p.time('to', zone);
    const limit = p.int('limit', DEFAULT_TOP_CUSTOMERS, 1, Math.min(1000, this.catalog.limits.maxResultRows));
    const profile = p.one('profile');
    const filters = p.filters('filter');
    p.throwIfAny();
    return this.meters.topCustomers(principal.tenant, {
      meter: key,
      profile,
      from: from as Date,
      to: to as Date,
      limit,
      filters,
    });
  }

  @Get('customers/:id/usage')
  @ApiOperation({ summary: "A customer's usage per meter and profile: total and every local day" })
  @ApiParam({ name: 'id', description: 'customer external id, URL-encoded' })
  @q('period', 'a calendar month YYYY-MM in the customer zone (or from and to)')
  @q('from', TIME)
  @q('to', TIME)
  @q('meter', 'only these meters (repeatable)', true)
  customerUsage(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: QueryString,
  ): Promise<CustomerUsageResult> {
    checkCustomerId(id);
    const p = new QueryParams(query, CUSTOMER_USAGE_PARAMS);
    const timezone = this.catalog.customerZone(principal.tenant, id);
    let range: { from?: Date; to?: Date } = {};
    if (p.has('period')) {
      if (p.has('from') || p.has('to'))
        p.add('period', 'CONFLICTING_PARAMETERS', 'give either period or from and to');
      const month = p.month('period');
      if (month) range = calendarMonth(month.year, month.month, timezone);
    } else {
      range = { from: p.time('from', timezone), to: p.time('to', timezone) };
    }
    const meters = p.many('meter');
    p.throwIfAny();
    return this.customers.customerUsage(
      principal.tenant,
      id,
      { from: range.from as Date, to: range.to as Date, timezone },
      meters,
    );
  }

  @Get('customers/:id/current-usage')
  @ApiOperation({ summary: "Every meter's usage in the customer's current billing period" })
  @ApiParam({ name: 'id', description: 'customer external id, URL-encoded' })
  currentUsage(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: QueryString,
  ): Promise<CurrentUsageResult> {
    checkCustomerId(id);
    new QueryParams(query, []).throwIfAny();
    return this.current.currentUsage(principal.tenant, id);
  }

  @Get('customers/:id/entitlements/:meter')
  @ApiOperation({
    summary: 'Usage against the limit of a meter (or meter:profile) in the current period: allowed?',
  })
  @ApiParam({ name: 'id', description: 'customer external id, URL-encoded' })
  @ApiParam({ name: 'meter', description: 'meter key, or meter:profile' })
  entitlement(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('meter') meter: string,
    @Query() query: QueryString,
  ): Promise<EntitlementResult> {
    checkCustomerId(id);
    new QueryParams(query, []).throwIfAny();
    return this.current.entitlement(principal.tenant, id, meter);
  }
}

function checkCustomerId(id: string): void {
  const problem = customerIdProblem(id);
  if (problem) throw new ValidationFailedError([{ field: 'id', ...problem }], 'Invalid customer id');
}
