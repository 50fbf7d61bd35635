import { env, infraConfig, loadConfig, natsConnectionConfig } from '@tally/config';
import { usageConfigSpec } from '@tally/usage';

export const queryConfigSpec = {
  port: env.port('QUERY_PORT', 3001),
  host: env.string('QUERY_HOST', '127.0.0.1', 'interface to listen on'),
  natsPrefix: env.string('TALLY_NATS_PREFIX', 'tally', 'prefix of every stream, subject and bucket'),
  ...natsConnectionConfig,
  clickhouseUrl: infraConfig.clickhouseUrl,
  clickhouseUser: infraConfig.clickhouseUser,
  clickhousePassword: infraConfig.clickhousePassword,
  clickhouseDatabase: infraConfig.clickhouseDatabase,
  bodyLimitBytes: env.int(
    'QUERY_BODY_LIMIT_BYTES',
    1024 * 1024,
    1024,
    64 * 1024 * 1024,
    'largest request body (413 above)',
  ),
  docs: env.bool('QUERY_DOCS', true, 'serve the OpenAPI document and Swagger UI at /docs'),
  trustProxy: infraConfig.trustProxy,
  logLevel: infraConfig.logLevel,
  ...usageConfigSpec,
};

export type QueryConfig = ReturnType<typeof loadQueryConfig>;
export const loadQueryConfig = (source = process.env) => loadConfig('query', queryConfigSpec, source);
