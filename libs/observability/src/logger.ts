import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * What is never written to a log, whatever a log call passes (docs/security.md): authorization
 * headers, API keys, passwords and secrets, at the top level of a log object and one level down
 * (`{ req: { headers: { authorization } } }`, `{ rule: { webhookSecret } }`, `{ config: { natsPassword } }`).
 */
export const REDACTED_PATHS: string[] = (() => {
  const keys = [
    'authorization',
    'Authorization',
    'apiKey',
    'password',
    'pass',
    'secret',
    'webhookSecret',
    'natsPassword',
    'clickhousePassword',
    'cookie',
  ];
  return [
    ...keys,
    ...keys.map((k) => `*.${k}`),
    ...keys.map((k) => `*.headers.${k}`),
    'headers["x-api-key"]',
    '*.headers["x-api-key"]',
  ];
})();

/** Structured JSON logs on stdout; one root logger per process, children per component. */
export function createLogger(
  service: string,
  level: string = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options = { name: service, level, base: { service, pid: process.pid }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
