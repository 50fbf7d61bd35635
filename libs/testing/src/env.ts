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
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
