import { jetstreamManager } from '@nats-io/jetstream';
import { randomPrefix, testNatsAuth, testNatsUrl } from '@tally/testing';
import { connectNats, type NatsConnection } from './connection';
import { GatewayMembership } from './gateway-membership';
import { natsNames } from './names';
import { SharedRateLimiter, type TenantRateLimit } from './shared-rate-limiter';

/** A limiter that must not be asked: the shared bucket is reachable throughout these tests. */
const noFallback = (): TenantRateLimit => ({
  take: () => {
    throw new Error('fallback used while the shared bucket was reachable');
  },
});

describe('shared rate limit and gateway membership (real NATS, two connections as two gateways)', () => {
  const names = natsNames(randomPrefix());
  let a: NatsConnection;
  let b: NatsConnection;

  beforeAll(async () => {
    a = await connectNats(testNatsUrl(), 'shared-rate-limiter.int-spec a', testNatsAuth());
    b = await connectNats(testNatsUrl(), 'shared-rate-limiter.int-spec b', testNatsAuth());
  });
  afterAll(async () => {
    await (await jetstreamManager(a)).streams.delete(`KV_${names.gatewayLimitsBucket}`).catch(() => undefined);
    await a.close();
    await b.close();
  });

  it('two gateways together accept at most rate x T + one second of burst, and each gets a share', async () => {
    const rate = 1_000;
    const [la, lb] = await Promise.all([
      SharedRateLimiter.open(a, names, 1, noFallback),
      SharedRateLimiter.open(b, names, 1, noFallback),
    ]);
    const limits = [la.scope('events'), lb.scope('events')];
    const accepted = [0, 0];
    let refused = 0;
    const started = Date.now();
    const durationMs = 3_000;
    // Four callers per gateway, 20 events per call, as fast as they can: far above the rate.
    await Promise.all(
      Array.from({ length: 8 }, async (_, caller) => {
        const g = caller % 2;
        while (Date.now() - started < durationMs) {
          const wait = await limits[g].take('acme', 20, rate, Date.now());
          if (wait === 0) accepted[g] += 20;
          else {
            refused++;
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      }),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const total = accepted[0] + accepted[1];
    console.log(`shared limit ${rate}/s over ${elapsedS.toFixed(2)} s: accepted ${accepted.join(' + ')} = ${total}, ${refused} refused`);
    expect(total).toBeLessThanOrEqual(rate * elapsedS + rate);
    // Not starved: most of the allowance is used (chunks forfeited at expiry cost at most one per gateway per second).
    expect(total).toBeGreaterThanOrEqual(rate * elapsedS * 0.5);
    expect(accepted[0]).toBeGreaterThan(0);
    expect(accepted[1]).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    // Another scope and another tenant have their own buckets.
    expect(await la.scope('points').take('acme', 20, rate, Date.now())).toBe(0);
    expect(await la.scope('events').take('globex', 20, rate, Date.now())).toBe(0);
  });

  it('answers how long to wait, and a request larger than a second of the rate passes on a full bucket', async () => {
    const limiter = (await SharedRateLimiter.open(a, names, 1, noFallback)).scope('big');
    const now = Date.now();
    expect(await limiter.take('t', 50, 1, now)).toBe(0);
    expect(await limiter.take('t', 50, 1, now + 1_000)).toBe(49);
  });

  it('counts live gateways and forgets one that stopped', async () => {
    const liveMs = 600;
    const ga = await GatewayMembership.start(a, names, 1, { liveMs });
    const gb = await GatewayMembership.start(b, names, 1, { liveMs });
    const until = async (what: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return what();
    };
    expect(await until(() => ga.count() === 2 && gb.count() === 2)).toBe(true);
    await gb.stop();
    expect(await until(() => ga.count() === 1)).toBe(true);
    await ga.stop();
  });
});
