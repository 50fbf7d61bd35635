import { randomBytes } from 'node:crypto';

/**
 * Integration tests reuse the servers `tools/infra/infra.sh up` started (or whatever the env vars
 * name) and isolate themselves by name: their own database, stream prefix and task queue.
 */
export const testNatsUrl = (): string => process.env.NATS_URL ?? 'nats://127.0.0.1:4322';
/**
 * The services' NATS credentials on the development server (`tools/infra/infra.sh env` prints them;
 * the server's `authorization` block is tools/infra/nats/accounts.conf). A server without
 * authorization ignores them, so they are always passed.
 */
export const DEV_NATS_SERVICES_USER = 'tally-services';
export const DEV_NATS_SERVICES_PASSWORD = 'tally-dev-services';
export const testNatsAuth = (): { natsUser: string; natsPassword: string } => ({
  natsUser: process.env.NATS_USER ?? DEV_NATS_SERVICES_USER,
  natsPassword: process.env.NATS_PASSWORD ?? DEV_NATS_SERVICES_PASSWORD,
});
/** `testNatsAuth` as the services' environment variables (`startService` passes them). */
export const testNatsEnv = (): Record<string, string> => {
  const { natsUser, natsPassword } = testNatsAuth();
  return { NATS_USER: natsUser, NATS_PASSWORD: natsPassword };
};
export const testClickHouseUrl = (): string => process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
/**
 * Stream size caps for test prefixes. JetStream reserves a stream's `max_bytes` against the server's
 * storage when the stream is created, so every test prefix created with the production defaults
 * (10 GiB for events and for data points) would reserve ~21 GB: a suite of dozens of prefixes runs
 * the shared server out of reservable storage and stream creation fails. Tests never hold more than
 * a few MiB, so they use these caps (services started by `startService` get them as env defaults).
 */
export const testStreamLimits = {
  eventsMaxBytes: 64 * 1024 ** 2,
  deadLettersMaxBytes: 16 * 1024 ** 2,
  lateEventsMaxBytes: 16 * 1024 ** 2,
} as const;

/** `testStreamLimits` as the services' environment variables. */
export const testStreamEnv: Record<string, string> = {
  TALLY_EVENTS_MAX_BYTES: String(testStreamLimits.eventsMaxBytes),
  TALLY_DEAD_LETTERS_MAX_BYTES: String(testStreamLimits.deadLettersMaxBytes),
};

export const testTemporalAddress = (): string => process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';

/** A lower-case identifier-safe random name such as `t_3f9a01c2`, usable as prefix, database or queue. */
export function randomPrefix(kind = 't'): string {
  return `${kind}_${randomBytes(5).toString('hex')}`;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  { timeoutMs = 20_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  );
}

/**
 * Deadline for a change to travel from one process to another (a catalog write to a cache, a
 * declaration to the gateway). Generous on purpose: on a busy 2-core machine a watch can lag by
 * seconds, and a tight deadline only measures the machine. What it takes is logged instead.
 */
export const PROPAGATION_DEADLINE_MS = 15_000;

/**
 * `waitFor` that measures: resolves with the milliseconds the condition took and logs them, so a
 * slow propagation shows in the test output without failing a correct system on a busy machine.
 */
export async function waitForMeasured(
  what: string,
  probe: () => Promise<unknown>,
  {
    timeoutMs = PROPAGATION_DEADLINE_MS,
    intervalMs = 5,
    log = (line: string): void => void process.stdout.write(`${line}\n`),
  } = {},
): Promise<number> {
  const started = Date.now();
  await waitFor(async () => (await probe()) || undefined, { timeoutMs, intervalMs, what });
  const ms = Date.now() - started;
  log(`${what}: ${ms} ms`);
  return ms;
}
