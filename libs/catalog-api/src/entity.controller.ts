import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Put,
  Query,
  Res,
  UseGuards,
  type Type,
} from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, CurrentPrincipal, Roles, type Principal } from '@tally/nest-kit';
import type { FastifyReply } from 'fastify';
import { CatalogService, withRevision } from './catalog.service';
import type { EntityResource } from './entity-resource';
import { parseListQuery } from './list-query';
import { ApiCatalogEndpoint, ApiConditionalWrite, ApiNotFound, exampleSchema } from './openapi';
import { conditionsFromHeaders, etagOf } from './preconditions';
import { decodeWrite } from './write-body';

type HeaderMap = Record<string, string | string[] | undefined>;

export interface EntityControllerOptions {
  /** Class name, for Nest's logs and OpenAPI operation ids (`CustomersController`). */
  name: string;
  /** URL segment under `/v1` (`customers`). */
  path: string;
  /** Singular, for descriptions (`customer`). */
  noun: string;
  /** The URL parameter that names an entity: `id`, or `key` for meters. */
  param: 'id' | 'key';
  resource: (catalog: CatalogService) => EntityResource<object, Record<string, string | undefined>>;
  /** Extra list filters accepted as query parameters (`customer` for subscriptions). */
  listFilters?: readonly string[];
  example: object;
}

/**
 * The HTTP driver of one tenant-owned entity kind: `GET /v1/<path>`, `GET|PUT|DELETE /v1/<path>/:id`.
 * It only decodes (principal, path, body, preconditions) and sets `ETag`; the tenant is always the API
 * key's, whatever the URL or body say. Reads need a `query` key, writes an `admin` key.
 */
export function entityController(options: EntityControllerOptions): Type<unknown> {
  const { param, noun } = options;
  const filters = options.listFilters ?? [];

  @ApiTags(options.path)
  @ApiCatalogEndpoint()
  @UseGuards(ApiKeyGuard)
  @Roles('query')
  @Controller(`v1/${options.path}`)
  class EntityController {
    constructor(@Inject(CatalogService) private readonly catalog: CatalogService) {}

    private get resource() {
      return options.resource(this.catalog);
    }

    @Get()
    @ApiOperation({
      summary: `List ${options.path}`,
      description: `Ordered by ${param}; page with limit and after.`,
    })
    @ApiQuery({ name: 'limit', required: false, description: 'Page size, 1-1000 (default 100)' })
    @ApiQuery({
      name: 'after',
      required: false,
      description: `Return ${options.path} whose ${param} sorts after this (the previous page's next)`,
    })
    @ApiOkResponse({ description: '{ items: [...with revision], next? }' })
    async list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
      const { limit, after, ...filter } = parseListQuery(query, filters);
      const page = await this.resource.list(principal.tenant, { limit, after }, filter);
      return { items: page.items.map(withRevision), ...(page.next === undefined ? {} : { next: page.next }) };
    }

    @Get(`:${param}`)
    @ApiOperation({ summary: `Read one ${noun}`, description: 'The revision is in the body and in ETag.' })
    @ApiParam({ name: param, description: 'URL-encoded' })
    @ApiOkResponse({ description: `The ${noun} and its revision (also in ETag)` })
    @ApiNotFound(noun)
    async get(
      @CurrentPrincipal() principal: Principal,
      @Param(param) id: string,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      const found = await this.resource.get(principal.tenant, id);
      void reply.header('etag', etagOf(found.revision));
      return withRevision(found);
    }

    @Put(`:${param}`)
    @Roles('admin')
    @ApiOperation({
      summary: `Create or replace a ${noun}`,
      description: `The tenant comes from the API key and the ${param} from the URL (the body may repeat them, not change them).`,
    })
    @ApiParam({ name: param, description: 'URL-encoded' })
    @ApiBody({ schema: exampleSchema(options.example) })
    @ApiOkResponse({ description: `The stored ${noun} and its new revision (also in ETag)` })
    @ApiConditionalWrite()
    @ApiNotFound('tenant')
    async put(
      @CurrentPrincipal() principal: Principal,
      @Param(param) id: string,
      @Body() body: unknown,
      @Headers() headers: HeaderMap,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      const write = decodeWrite(body, headers, {
        tenant: principal.tenant,
        hasTenantField: true,
        idField: this.resource.idField,
        id,
        validate: (input) => this.resource.validate(input),
      });
      const stored = await this.resource.put(principal.tenant, write);
      void reply.header('etag', etagOf(stored.revision));
      return withRevision(stored);
    }

    @Delete(`:${param}`)
    @Roles('admin')
    @HttpCode(204)
    @ApiOperation({ summary: `Delete a ${noun}` })
    @ApiParam({ name: param, description: 'URL-encoded' })
    @ApiConditionalWrite()
    @ApiNotFound(noun)
    async remove(
      @CurrentPrincipal() principal: Principal,
      @Param(param) id: string,
      @Headers() headers: HeaderMap,
    ): Promise<void> {
      await this.resource.delete(principal.tenant, id, conditionsFromHeaders(headers));
    }
  }

  Object.defineProperty(EntityController, 'name', { value: options.name });
  return EntityController;
}
