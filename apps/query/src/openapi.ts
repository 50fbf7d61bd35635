import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { BEARER_AUTH } from '@tally/catalog-api';

/** Serves the OpenAPI document at `/docs-json` (and `/docs-yaml`) and Swagger UI at `/docs`. */
export function setUpOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Tally query API')
    .setDescription(
      'Catalog (tenant, customers, meters, plans, subscriptions, alert rules, API keys) and usage queries. ' +
        'Every /v1 endpoint takes `Authorization: Bearer <API key>`; the key decides the tenant. ' +
        'Errors are `{ "error": { "code", "message", "details"? } }`.',
    )
    .setVersion('1')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'A Tally API key (tally_query_... or tally_admin_...)' },
      BEARER_AUTH,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
