import { Body, Controller, HttpCode, Inject, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, CurrentPrincipal, Roles, type Principal } from '@tally/nest-kit';
import type { FastifyReply } from 'fastify';
import { SqlApiService } from './sql-api.service';

/** HTTP driver of the SQL API: hands the raw body to `SqlApiService` and sends its text back as it is. */
@ApiTags('analytics')
@ApiBearerAuth('bearer')
@Controller('v1')
@UseGuards(ApiKeyGuard)
@Roles('query')
export class SqlController {
  constructor(@Inject(SqlApiService) private readonly sqlApi: SqlApiService) {}

  @Post('sql')
  @HttpCode(200)
  @ApiOperation({
    summary: "Cloudflare Analytics Engine's SQL API on your datasets (docs/analytics-engine.md)",
  })
  @ApiConsumes('text/plain')
  @ApiBody({
    schema: {
      type: 'string',
      example: 'SELECT index1 AS customer_id, sum(_sample_interval) AS count FROM usage GROUP BY customer_id',
    },
  })
  @ApiQuery({ name: 'format', required: false, enum: ['JSON', 'JSONEachRow', 'TabSeparated'] })
  async sql(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Query('format') format: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const result = await this.sqlApi.execute({ tenant: principal.tenant, body, format });
    await reply.status(200).header('content-type', result.contentType).send(result.body);
  }
}
