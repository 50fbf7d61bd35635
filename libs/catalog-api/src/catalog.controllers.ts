import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, CurrentPrincipal, Roles, type Principal } from '@tally/nest-kit';
import type { FastifyReply } from 'fastify';
import { ApiKeysService } from './api-keys.service';
import { CatalogService, withRevision } from './catalog.service';
import { entityController } from './entity.controller';
import { ApiCatalogEndpoint, ApiConditionalWrite, ApiNotFound, EXAMPLES, exampleSchema } from './openapi';
import { etagOf } from './preconditions';
import { decodeWrite } from './write-body';

type HeaderMap = Record<string, string | string[] | undefined>;

export const CustomersController = entityController({
  name: 'CustomersController',
  path: 'customers',
  noun: 'customer',
  param: 'id',
  resource: (c) => c.customers,
  example: EXAMPLES.customer,
});

export const MetersController = entityController({
  name: 'MetersController',
  path: 'meters',
  noun: 'meter',
  param: 'key',
  resource: (c) => c.meters,
  example: EXAMPLES.meter,
});

export const PlansController = entityController({
  name: 'PlansController',
  path: 'plans',
  noun: 'plan',
  param: 'id',
  resource: (c) => c.plans,
  example: EXAMPLES.plan,
});

export const SubscriptionsController = entityController({
  name: 'SubscriptionsController',
  path: 'subscriptions',
  noun: 'subscription',
  param: 'id',
  resource: (c) => c.subscriptions,
  listFilters: ['customer'],
  example: EXAMPLES.subscription,
});

export const AlertRulesController = entityController({
  name: 'AlertRulesController',
  path: 'alert-rules',
  noun: 'alert rule',
  param: 'id',
  resource: (c) => c.alertRules,
  example: EXAMPLES.alertRule,
});

/** Past definitions of a meter, e.g. the one an issued invoice was computed with. */
@ApiTags('meters')
@ApiCatalogEndpoint()
@UseGuards(ApiKeyGuard)
@Roles('query')
@Controller('v1/meters')
export class MeterVersionsController {
  constructor(@Inject(CatalogService) private readonly catalog: CatalogService) {}

  @Get(':key/versions')
  @ApiOperation({
    summary: 'Version numbers a meter has had',
    description: 'Also after the meter was deleted.',
  })
  @ApiNotFound('meter')
  versions(@CurrentPrincipal() principal: Principal, @Param('key') key: string) {
    return this.catalog.meterVersions(principal.tenant, key);
  }

  @Get(':key/versions/:version')
  @ApiOperation({ summary: 'A meter as it was at one version' })
  @ApiParam({ name: 'version', description: '1, 2, ...' })
  @ApiNotFound('meter version')
  version(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Param('version') version: string,
  ) {
    return this.catalog.meterVersion(principal.tenant, key, version);
  }
}

/** The API key's own tenant: its settings (time zone, currency, limits). */
@ApiTags('tenant')
@ApiCatalogEndpoint()
@UseGuards(ApiKeyGuard)
@Roles('query')
@Controller('v1/tenant')
export class TenantController {
  constructor(@Inject(CatalogService) private readonly catalog: CatalogService) {}

  @Get()
  @ApiOperation({ summary: "Read your tenant's settings" })
  @ApiNotFound('tenant')
  async get(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply) {
    const tenant = await this.catalog.getTenant(principal.tenant);
    void reply.header('etag', etagOf(tenant.revision));
    return withRevision(tenant);
  }

  @Put()
  @Roles('admin')
  @ApiOperation({
    summary: "Change your tenant's settings",
    description: 'Every setting is replaced; unset ones take their default.',
  })
  @ApiBody({ schema: exampleSchema(EXAMPLES.tenant) })
  @ApiConditionalWrite()
  async put(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Headers() headers: HeaderMap,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const write = decodeWrite(body, headers, {
      tenant: principal.tenant,
      hasTenantField: false,
      idField: 'id',
      id: principal.tenant,
      validate: (input) => this.catalog.validateTenant(input),
    });
    const stored = await this.catalog.putTenant(principal.tenant, write);
    void reply.header('etag', etagOf(stored.revision));
    return withRevision(stored);
  }
}

/** API keys of the caller's tenant; admin keys only. */
@ApiTags('api-keys')
@ApiCatalogEndpoint()
@UseGuards(ApiKeyGuard)
@Roles('admin')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(@Inject(ApiKeysService) private readonly keys: ApiKeysService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a key', description: 'The answer is the only time the key is shown.' })
  @ApiBody({
    schema: exampleSchema({ role: 'ingest', name: 'production ingest' }, 'role: ingest | query | admin'),
  })
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    return this.keys.create(principal.tenant, body);
  }

  @Get()
  @ApiOperation({ summary: 'List keys (ids and names, never the keys)' })
  list(@CurrentPrincipal() principal: Principal) {
    return this.keys.list(principal.tenant);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key', description: 'Takes effect on every service within moments.' })
  @ApiParam({ name: 'id', description: 'The id from the list (SHA-256 of the key, hex)' })
  @ApiNotFound('API key')
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.keys.revoke(principal.tenant, id);
  }
}

/** What this instance's in-memory catalog holds: to check that a change has reached the service. */
@ApiTags('catalog')
@ApiCatalogEndpoint()
@UseGuards(ApiKeyGuard)
@Roles('query')
@Controller('v1/catalog')
export class CatalogCacheController {
  constructor(@Inject(CatalogService) private readonly catalog: CatalogService) {}

  @Get('cache')
  @ApiOperation({
    summary: "This instance's in-memory view of your catalog",
    description: 'The catalog revision applied and the meters (with versions) usage queries see right now.',
  })
  cache(@CurrentPrincipal() principal: Principal) {
    return this.catalog.cacheView(principal.tenant);
  }
}
