import { Body, Controller, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, CurrentPrincipal, Roles, type Principal } from '@tally/nest-kit';
import { ApiCatalogEndpoint, ApiNotFound, exampleSchema } from './openapi';
import { CreditLedgerEntries, SubscriptionLifecycleService } from '@tally/catalog';

const WHEN = "at: now (default) | period_end, or effective: YYYY-MM-DD (customer's zone; past dates re-bill)";

/**
 * The subscription lifecycle (docs/finance.md#subscription-lifecycle): only decodes; the rules are in
 * `subscription-lifecycle.ts`. Each call answers the effective date, its period and what was written.
 */
@ApiTags('subscriptions')
@ApiCatalogEndpoint()
@UseGuards(ApiKeyGuard)
@Roles('admin')
@Controller('v1/subscriptions')
export class SubscriptionLifecycleController {
  constructor(
    @Inject(SubscriptionLifecycleService) private readonly lifecycle: SubscriptionLifecycleService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Start a subscription (optionally with a trial: no flat fees for trialDays days)',
  })
  @ApiBody({
    schema: exampleSchema({
      id: 'sub_1',
      customer: 'acct_42',
      plan: 'starter',
      start: '2026-12-01',
      trialDays: 14,
    }),
  })
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    return this.lifecycle.create(principal.tenant, body);
  }

  @Post(':id/change-plan')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Change plan: the subscription ends and a new one on the plan starts on the effective date',
  })
  @ApiParam({ name: 'id' })
  @ApiBody({ schema: exampleSchema({ plan: 'pro', at: 'now' }, WHEN) })
  @ApiNotFound('subscription')
  changePlan(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.lifecycle.changePlan(principal.tenant, id, body);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel: the subscription ends on the effective date (not billed from then)' })
  @ApiParam({ name: 'id' })
  @ApiBody({ schema: exampleSchema({ at: 'period_end' }, WHEN) })
  @ApiNotFound('subscription')
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.lifecycle.cancel(principal.tenant, id, body);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Pause: nothing billed from the effective date until a resume (resumeOn, or POST resume)',
  })
  @ApiParam({ name: 'id' })
  @ApiBody({ schema: exampleSchema({ at: 'now', resumeOn: '2027-01-01' }, WHEN) })
  @ApiNotFound('subscription')
  pause(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.lifecycle.pause(principal.tenant, id, body);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resume a paused subscription: a continuation on the same plan starts on the effective date',
  })
  @ApiParam({ name: 'id' })
  @ApiBody({
    schema: exampleSchema({ effective: '2027-01-01' }, 'at: now (default), or effective: YYYY-MM-DD'),
  })
  @ApiNotFound('subscription')
  resume(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.lifecycle.resume(principal.tenant, id, body);
  }
}

/** Top-ups, grants and voids: one entry appended to a customer's credit ledger (docs/finance.md#prepaid-credits). */
@ApiTags('credits')
@ApiCatalogEndpoint()
@UseGuards(ApiKeyGuard)
@Roles('admin')
@Controller('v1/customers')
export class CreditEntriesController {
  constructor(@Inject(CreditLedgerEntries) private readonly entries: CreditLedgerEntries) {}

  @Post(':id/credits/entries')
  @HttpCode(201)
  @ApiOperation({
    summary: "Append a grant (a top-up is a grant), a unit grant or a void to the customer's credit ledger",
  })
  @ApiParam({ name: 'id', description: 'customer external id (URL-encoded)' })
  @ApiBody({
    schema: exampleSchema({
      type: 'grant',
      id: 'topup-2026-12',
      currency: 'USD',
      amountMinor: '5000',
      effective: '2026-12-01',
      source: 'top_up',
    }),
  })
  @ApiNotFound('customer')
  append(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.entries.append(principal.tenant, id, body);
  }
}
