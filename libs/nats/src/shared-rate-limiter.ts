import { setTimeout as sleep } from 'node:timers/promises';
import { JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsNames } from './names';

/** A per-tenant limit on some cost (events, data points) per second. */
export interface TenantRateLimit {
  /** Returns 0 when `cost` was taken, else the whole seconds until it could be. */
  take(tenant: string, cost: number, ratePerSecond: number, nowMs: number): number | Promise<number>;
}

export interface SharedRateLimiterOptions {
  /** Tokens a gateway reserves from the shared bucket at once, as milliseconds of the tenant's rate. */
  chunkMs: number;
  /** How long reserved tokens stay usable; what is left then is forfeited (never handed to anyone). */
  chunkTtlMs: number;
  /**
   * Compare-and-set attempts before giving up on the bucket for this request (then `fallback` decides);
   * attempt n waits up to 2^n ms after a conflict, so 10 attempts span at most about half a second.
   */
  maxAttempts: number;
}

export const defaultSharedRateLimiterOptions: SharedRateLimiterOptions = {
  chunkMs: 100,
  chunkTtlMs: 1_000,
  maxAttempts: 10,
};

/** The shared bucket of one tenant and scope as stored in KV: its tokens at time `at` (ms). */
interface SharedBucket {
  tokens: number;
  at: number;
}

interface Reserved {
  tokens: number;
  expiresAt: number;
}

/**
 * The per-tenant token bucket of every gateway at once, kept in NATS KV (bucket
 * `<prefix>_gateway_limits`, key `<scope>.<tenant>`): the limit holds for the tenant, however its
 * requests are spread over gateways.
 *
 * A KV round trip per request would put NATS on the hot path, so a gateway reserves tokens in chunks
 * (`chunkMs` of the tenant's rate, or the request's cost if larger) by compare-and-set on the shared
 * bucket, and spends them locally. Reserved tokens are gone from the shared bucket, so everything all
 * gateways accept in any interval T is at most rate x T + one second's burst, exactly as with one
 * bucket. What a gateway reserved and did not spend within `chunkTtlMs` is forfeited: near the limit a
 * tenant may get up to one chunk per gateway less than its rate, never more.
 *
 * Refill uses the gateways' clocks (`at` never moves backwards, so skew only delays refill). When the
 * bucket cannot be read or written (a NATS election), `fallback` answers for that request (the gateway
 * passes a local bucket at rate / live gateways) rather than turning a limiter outage into errors.
 */
export class SharedRateLimiter {
  private readonly reserved = new Map<string, Reserved>();
  /** One reservation at a time per key in this process: concurrent requests wait for it, then spend. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly options: SharedRateLimiterOptions;

  private constructor(
    private readonly kv: KV,
    private readonly fallback: (scope: string) => TenantRateLimit,
    options: Partial<SharedRateLimiterOptions>,
  ) {
    this.options = { ...defaultSharedRateLimiterOptions, ...options };
  }

  static async open(
    nc: NatsConnection,
    names: NatsNames,
    replicas: number,
    fallback: (scope: string) => TenantRateLimit,
    options: Partial<SharedRateLimiterOptions> = {},
  ): Promise<SharedRateLimiter> {
    return new SharedRateLimiter(await openGatewayLimitsBucket(nc, names, replicas), fallback, options);
  }

  /** The limit of one scope (`events`, `points`): each scope has its own bucket per tenant. */
  scope(scope: string): TenantRateLimit {
    const fallback = this.fallback(scope);
    return {
      take: (tenant, cost, ratePerSecond, nowMs) => {
        const key = `${scope}.${tenant}`;
        const mine = this.reserved.get(key);
        if (mine && mine.expiresAt > nowMs && mine.tokens >= cost) {
          mine.tokens -= cost;
          return 0;
        }
        const queued = (this.queues.get(key) ?? Promise.resolve()).then(() =>
          this.reserve(key, cost, ratePerSecond, nowMs).catch(() =>
            fallback.take(tenant, cost, ratePerSecond, nowMs),
          ),
        );
        this.queues.set(
          key,
          queued.catch(() => undefined),
        );
        return queued;
      },
    };
  }

  /** Spends what this process still holds, else reserves a chunk from the shared bucket. */
  private async reserve(key: string, cost: number, ratePerSecond: number, nowMs: number): Promise<number> {
    const mine = this.reserved.get(key);
    const held = mine && mine.expiresAt > nowMs ? mine.tokens : 0;
    if (mine && held >= cost) {
      mine.tokens -= cost;
      return 0;
    }
    const need = cost - held;
    const capacity = Math.max(ratePerSecond, cost);
    const chunk = Math.max(need, Math.ceil((ratePerSecond * this.options.chunkMs) / 1000));
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt++) {
      const entry = await this.kv.get(key);
      const stored = entry && entry.operation === 'PUT' ? entry.json<SharedBucket>() : undefined;
      const at = Math.max(nowMs, stored?.at ?? nowMs);
      const tokens = stored
        ? Math.min(capacity, stored.tokens + (Math.max(0, nowMs - stored.at) / 1000) * ratePerSecond)
        : capacity;
      if (tokens < need) return Math.max(1, Math.ceil((need - tokens) / ratePerSecond));
      const grant = Math.min(tokens, chunk);
      const value = JSON.stringify({ tokens: tokens - grant, at } satisfies SharedBucket);
      try {
        if (entry) await this.kv.update(key, value, entry.revision);
        else await this.kv.create(key, value);
      } catch (error) {
        if (!isConflict(error)) throw error;
        // Another gateway reserved meanwhile: read again after a random pause. Without it two gateways
        // reserving back to back can keep overwriting each other, and the loser fell back to its
        // local bucket while the shared one was reachable (seen in CI).
        await sleep(Math.random() * 2 ** attempt);
        continue;
      }
      this.reserved.set(key, { tokens: held + grant - cost, expiresAt: nowMs + this.options.chunkTtlMs });
      return 0;
    }
    throw new Error(
      `shared rate limit ${key}: ${this.options.maxAttempts} conflicting reservations in a row`,
    );
  }
}

/** A compare-and-set that lost: the key changed (or appeared) since it was read. */
function isConflict(error: unknown): boolean {
  if (!(error instanceof JetStreamApiError)) return false;
  // 10071: wrong last sequence (update), 10164 key exists (create on some servers)
  return error.code === 10071 || /wrong last sequence|key exists/i.test(error.message);
}

/** The gateways' shared limits and heartbeats (created at the services' replica count if missing). */
export async function openGatewayLimitsBucket(
  nc: NatsConnection,
  names: NatsNames,
  replicas: number,
): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    // Keys of tenants idle for 10 minutes go; a missing key is a full bucket, which it would be by then.
    return await kvm.create(names.gatewayLimitsBucket, { history: 1, replicas, ttl: 600_000 });
  } catch (error) {
    if (error instanceof JetStreamApiError) return kvm.open(names.gatewayLimitsBucket);
    throw error;
  }
}
