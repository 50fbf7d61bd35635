import { existsSync } from 'node:fs';
import { z } from 'zod';

/** One configuration key: the environment variable it is read from and how it is validated. */
export interface ConfigField<T> {
  env: string;
  schema: z.ZodType<T, z.ZodTypeDef, unknown>;
  description: string;
  /** A credential: its value is never repeated in an error message (or anywhere else this module prints). */
  secret?: boolean;
}

export type ConfigSpec = Record<string, ConfigField<unknown>>;
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: S[K] extends ConfigField<infer T> ? T : never };

export interface ConfigIssue {
  env: string;
  value: string | undefined;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly app: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `${app}: invalid configuration (${issues.length} key${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${i.env}=${JSON.stringify(i.value ?? '')}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * Reads every field of `spec` from `env` and validates all of them before failing, so an operator
 * sees every bad key at once instead of fixing them one restart at a time.
 */
export function loadConfig<S extends ConfigSpec>(
  app: string,
  spec: S,
  env: Record<string, string | undefined> = process.env,
): ConfigOf<S> {
  const issues: ConfigIssue[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec)) {
    const raw = env[field.env];
    const parsed = field.schema.safeParse(raw === '' ? undefined : raw);
    if (parsed.success) out[key] = parsed.data;
    else
      issues.push({
        env: field.env,
        value: field.secret && raw !== undefined ? '(secret, not shown)' : raw,
        message: parsed.error.issues.map((i) => i.message).join('; '),
      });
  }
  if (issues.length) throw new ConfigError(app, issues);
  return Object.freeze(out) as ConfigOf<S>;
}

const field = <T>(env: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, description: string): ConfigField<T> => ({
  env,
  schema,
  description,
});

export const env = {
  port: (name: string, fallback: number, description = 'TCP port to listen on') =>
    field(
      name,
      z.coerce
        .number({ invalid_type_error: 'must be a whole number' })
        .int('must be a whole number')
        .min(0, 'must be between 0 and 65535')
        .max(65535, 'must be between 0 and 65535')
        .default(fallback),
      description,
    ),
  int: (name: string, fallback: number, min: number, max: number, description: string) =>
    field(
      name,
      z.coerce
        .number({ invalid_type_error: 'must be a whole number' })
        .int('must be a whole number')
        .min(min, `must be at least ${min}`)
        .max(max, `must be at most ${max}`)
        .default(fallback),
      description,
    ),
  url: (name: string, fallback: string, protocols: string[], description: string) =>
    field(
      name,
      z
        .string()
        .default(fallback)
        .refine((v) => {
          try {
            return protocols.includes(new URL(v).protocol.replace(':', ''));
          } catch {
            return false;
          }
        }, `must be a URL with scheme ${protocols.join(' or ')}`),
      description,
    ),
  /** One URL or several, comma-separated (the nodes of a cluster); empty allowed when `fallback` is empty. */
  urls: (name: string, fallback: string, protocols: string[], description: string) =>
    field(
      name,
      z
        .string()
        .default(fallback)
        .refine(
          (v) =>
            (v === '' && fallback === '') ||
            v.split(',').every((u) => {
              try {
                return protocols.includes(new URL(u.trim()).protocol.replace(':', ''));
              } catch {
                return false;
              }
            }),
          `must be one URL with scheme ${protocols.join(' or ')}, or several separated by commas`,
        ),
      description,
    ),
  string: (name: string, fallback: string, description: string) =>
    field(name, z.string().default(fallback), description),
  /** A ClickHouse/SQL identifier (a database or cluster name); empty allowed when `fallback` is empty. */
  identifier: (name: string, fallback: string, description: string) =>
    field(
      name,
      z
        .string()
        .default(fallback)
        .refine((v) => (v === '' && fallback === '') || /^[A-Za-z_][A-Za-z0-9_]*$/.test(v), 'must be a plain identifier'),
      description,
    ),
  /** A password or key: defaults to empty (none), and its value never appears in an error message. */
  secret: (name: string, description: string): ConfigField<string> => ({
    ...field(name, z.string().default(''), description),
    secret: true,
  }),
  /** A path to a file that must exist at boot; empty means none. */
  file: (name: string, description: string) =>
    field(
      name,
      z
        .string()
        .default('')
        .refine((v) => v === '' || existsSync(v), 'no such file'),
      description,
    ),
  hostPort: (name: string, fallback: string, description: string) =>
    field(
      name,
      z
        .string()
        .default(fallback)
        .refine((v) => /^[A-Za-z0-9.\-_]+:\d{1,5}$/.test(v), 'must be host:port'),
      description,
    ),
  oneOf: <T extends string>(name: string, values: readonly [T, ...T[]], fallback: T, description: string) =>
    field(name, z.enum(values).default(fallback as never) as unknown as z.ZodType<T, z.ZodTypeDef, unknown>, description),
  bool: (name: string, fallback: boolean, description: string) =>
    field(
      name,
      z
        .enum(['true', 'false', '1', '0'], { errorMap: () => ({ message: 'must be true or false' }) })
        .optional()
        .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1')),
      description,
    ),
};

/** Connection settings shared by every service: one definition, so defaults never drift apart. */
export const infraConfig = {
  natsUrl: env.urls('NATS_URL', 'nats://127.0.0.1:4322', ['nats', 'tls'], 'NATS server with JetStream (a cluster: its nodes, comma-separated)'),
  /** How Tally's services authenticate to NATS and secure the connection (docs/security.md#nats). */
  natsUser: env.string('NATS_USER', '', 'NATS user of the services (empty: connect without credentials)'),
  natsPassword: env.secret('NATS_PASSWORD', "NATS user's password"),
  natsCredsFile: env.file('NATS_CREDS_FILE', 'NATS credentials file (JWT + NKey seed), instead of user and password'),
  natsTlsCaFile: env.file('NATS_TLS_CA_FILE', 'CA certificate that signed the NATS server certificate (turns TLS on)'),
  natsTlsCertFile: env.file('NATS_TLS_CERT_FILE', 'client certificate for NATS mutual TLS (with NATS_TLS_KEY_FILE)'),
  natsTlsKeyFile: env.file('NATS_TLS_KEY_FILE', 'private key of NATS_TLS_CERT_FILE'),
  clickhouseUrl: env.url('CLICKHOUSE_URL', 'http://127.0.0.1:8123', ['http', 'https'], 'ClickHouse HTTP endpoint'),
  clickhouseUser: env.string('CLICKHOUSE_USER', 'default', 'ClickHouse user'),
  clickhousePassword: env.secret('CLICKHOUSE_PASSWORD', 'ClickHouse password'),
  clickhouseDatabase: field(
    'CLICKHOUSE_DATABASE',
    z
      .string()
      .default('tally')
      .refine((v) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(v), 'must be a plain identifier'),
    'ClickHouse database that holds Tally tables',
  ),
  /** Stream limits every service creates the streams with when they are missing (docs/ingestion.md#streams). */
  eventsMaxBytes: env.int('TALLY_EVENTS_MAX_BYTES', 1024 ** 3, 1024 * 1024, Number.MAX_SAFE_INTEGER, 'backlog cap of the events stream: beyond it the gateway answers 503 STREAM_FULL'),
  deadLettersMaxBytes: env.int('TALLY_DEAD_LETTERS_MAX_BYTES', 256 * 1024 ** 2, 1024 * 1024, Number.MAX_SAFE_INTEGER, 'size cap of the dead-letter stream'),
  /**
   * Partitions of the events stream (docs/scaling.md): the gateway publishes a customer's events to
   * one of them, each is written by one writer at a time. The same value on every gateway and writer;
   * change it only with the stream drained.
   */
  eventPartitions: env.int('TALLY_EVENT_PARTITIONS', 1, 1, 1024, 'partitions of the events stream: at most this many writers store events at once'),
  /** Replicas of every stream and bucket Tally creates (docs/scaling.md): 1 on one node, 3 on a 3-node cluster. */
  streamReplicas: env.int('TALLY_STREAM_REPLICAS', 1, 1, 5, 'replicas of the streams and buckets Tally creates (at most the NATS cluster size)'),
  temporalAddress: env.hostPort('TEMPORAL_ADDRESS', '127.0.0.1:7233', 'Temporal frontend host:port'),
  temporalNamespace: env.string('TEMPORAL_NAMESPACE', 'default', 'Temporal namespace'),
  /** The internal listener's interface (docs/operations.md#internal-port): `/metrics` and the detailed `/health`. */
  internalHost: env.string('TALLY_INTERNAL_HOST', '127.0.0.1', 'interface of the internal listener (/metrics, detailed /health); never a public one'),
  trustProxy: env.bool('TALLY_TRUST_PROXY', false, 'believe X-Forwarded-* headers (only behind a proxy that sets them)'),
  logLevel: env.oneOf(
    'LOG_LEVEL',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    'info',
    'pino log level',
  ),
} satisfies ConfigSpec;

/** The NATS connection fields of `infraConfig`, for an app's spec: `...natsConnectionConfig`. */
export const natsConnectionConfig = {
  natsUrl: infraConfig.natsUrl,
  natsUser: infraConfig.natsUser,
  natsPassword: infraConfig.natsPassword,
  natsCredsFile: infraConfig.natsCredsFile,
  natsTlsCaFile: infraConfig.natsTlsCaFile,
  natsTlsCertFile: infraConfig.natsTlsCertFile,
  natsTlsKeyFile: infraConfig.natsTlsKeyFile,
} satisfies ConfigSpec;
