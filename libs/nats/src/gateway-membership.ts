import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsNames } from './names';
import { openGatewayLimitsBucket } from './shared-rate-limiter';

export interface GatewayMembershipOptions {
  /** A gateway whose heartbeat is older than this is not counted; heartbeats every third of it. */
  liveMs: number;
}

/**
 * How many gateways are running, for what is split between them rather than shared (the Analytics
 * Engine sampling budget, and the rate limit while its shared bucket is unreachable): each gateway
 * writes a heartbeat key `g.<id>` into the gateway limits bucket and counts the fresh ones. The count
 * is at least 1 and starts at 1 until the first read; a dead gateway stops counting after `liveMs`,
 * so for that long the others keep a smaller share than they could (never a larger one).
 */
export class GatewayMembership {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private live = 1;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;

  private constructor(
    private readonly kv: KV,
    private readonly options: GatewayMembershipOptions,
  ) {}

  static async start(nc: NatsConnection, names: NatsNames, replicas: number, options: GatewayMembershipOptions): Promise<GatewayMembership> {
    const membership = new GatewayMembership(await openGatewayLimitsBucket(nc, names, replicas), options);
    await membership.tick().catch(() => undefined);
    membership.schedule();
    return membership;
  }

  /** Live gateways, this one included (at least 1). */
  count(): number {
    return this.live;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.kv.delete(`g.${this.id}`).catch(() => undefined);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch(() => undefined) // NATS unavailable: keep the last count
        .finally(() => {
          if (this.timer) this.schedule();
        });
    }, Math.max(50, Math.floor(this.options.liveMs / 3)));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    await this.kv.put(`g.${this.id}`, JSON.stringify({ at: now }));
    let live = 0;
    for await (const key of await this.kv.keys('g.*')) {
      if (key === `g.${this.id}`) {
        live++;
        continue;
      }
      const entry = await this.kv.get(key);
      if (entry?.operation === 'PUT' && now - entry.json<{ at: number }>().at < this.options.liveMs) live++;
    }
    this.live = Math.max(1, live);
  }
}
