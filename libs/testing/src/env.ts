import { randomBytes } from 'node:crypto';

/**
 * Integration tests reuse the servers `tools/infra/infra.sh up` started (or whatever the env vars
 * name) and isolate themselves by name: their own database, stream prefix and task queue.
 */
export const testNatsUrl = (): string => process.env.NATS_URL ?? 'nats://127.0.0.1:4322';
export const testClickHouseUrl = (): string => process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
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
