import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout; one root logger per process, children per component. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}
