import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiResponse } from '@nestjs/swagger';

/** Name of the bearer security scheme in the OpenAPI document (the app registers it). */
export const BEARER_AUTH = 'bearer';

const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', example: 'VALIDATION_FAILED' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              field: { type: 'string', example: 'charges[0].unitPrice' },
              code: { type: 'string', example: 'INVALID_TYPE' },
              message: { type: 'string' },
            },
          },
        },
      },
    },
  },
};

/** Bearer auth and the answers every catalog endpoint can give. */
export const ApiCatalogEndpoint = () =>
  applyDecorators(
    ApiBearerAuth(BEARER_AUTH),
    ApiResponse({ status: 401, description: 'UNAUTHORIZED: missing or unknown API key', schema: errorBody }),
    ApiResponse({ status: 403, description: "FORBIDDEN: the key's role may not do this", schema: errorBody }),
  );

export const ApiNotFound = (what: string) =>
  ApiResponse({ status: 404, description: `NOT_FOUND: no such ${what} in your tenant`, schema: errorBody });

/** Preconditions and validation errors of a write. */
export const ApiConditionalWrite = () =>
  applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description: 'Only write if the stored revision is this ETag (e.g. "42"); * = only if it exists',
    }),
    ApiHeader({
      name: 'If-None-Match',
      required: false,
      description: '* = create only (fails if it exists)',
    }),
    ApiResponse({ status: 400, description: 'INVALID_PRECONDITION / MALFORMED_JSON', schema: errorBody }),
    ApiResponse({
      status: 409,
      description: 'REVISION_CONFLICT: changed (or created) by someone else since you read it',
      schema: errorBody,
    }),
    ApiResponse({
      status: 422,
      description: 'VALIDATION_FAILED: every invalid field with its path',
      schema: errorBody,
    }),
  );

/** An OpenAPI schema that documents a JSON body by example (the catalog's zod schemas are the rules). */
export const exampleSchema = (example: object, description?: string) => ({
  type: 'object' as const,
  additionalProperties: true,
  description,
  example,
});

export const EXAMPLES = {
  tenant: {
    name: 'Acme Inc.',
    timezone: 'America/New_York',
    currency: 'USD',
    latenessLimitDays: 35,
    rateLimitPerSecond: 10000,
    requireKnownCustomers: false,
  },
  customer: { name: 'Globex', timezone: 'Europe/Berlin', metadata: { crm_id: '0016g00000XyZ' } },
  meter: {
    name: 'Songs played',
    eventTypes: ['Song played'],
    aggregation: 'count',
    filters: [{ property: 'country', operator: 'in', value: ['USA'] }],
    groupBy: ['artist'],
  },
  plan: {
    name: 'Growth',
    currency: 'USD',
    charges: [
      { id: 'base', name: 'Platform fee', kind: 'flat', amount: '49' },
      {
        id: 'plays',
        name: 'Plays',
        kind: 'per_unit',
        meter: 'plays',
        unitPrice: '0.001',
        freeUnits: '10000',
      },
    ],
  },
  subscription: { customer: 'acct_67890', plan: 'growth-2026', start: '2026-02-01', billingAnchorDay: 1 },
  alertRule: {
    meter: 'plays',
    customer: 'acct_67890',
    threshold: { kind: 'percent_of_allowance', percent: 80, allowance: '10000' },
    webhookUrl: 'https://hooks.example.com/tally',
    webhookSecret: 'whsec_4f1c2d9e8b7a6f5e',
  },
};
