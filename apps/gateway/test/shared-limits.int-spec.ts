import { waitFor } from '@tally/testing';
import { IngestionHarness } from './ingestion-harness';

/**
 * Two gateway processes, one tenant: the tenant's rate limit holds for both together (shared bucket
 * in NATS KV, docs/scaling.md#several-gateways). With GATEWAY_SHARED_LIMITS=false each gateway
 * enforces the whole limit on its own and this test fails (about twice the limit gets through).
 */
describe('a tenant rate limit shared by two gateways (real NATS)', () => {
  const h = new IngestionHarness({ startWriter: false });
  let second: string;

  beforeAll(async () => {
    await h.start();
    second = await h.startGateway();
  }, 120_000);
  afterAll(() => h.stop());

  it('keeps the combined accepted rate within the limit and answers 429 beyond it', async () => {
    const rate = 100;
    const { ingestKey } = await h.tenant('twogw', { rateLimitPerSecond: rate, latenessLimitDays: 1 });
    const gateways = [h.gatewayUrl, second];
    // Positive marker that each gateway has the tenant's own limits (defaults apply until its watch
    // delivers them): a 3-day-old event is refused under the 1-day limit; validation spends no tokens.
    const old = { customerId: 'c', metricName: 'm', eventId: 'old', timestamp: new Date(Date.now() - 3 * 86_400_000).toISOString() };
    for (const url of gateways) {
      await waitFor(async () => (await h.post(old, ingestKey, 'application/json', url)).body?.error?.details?.[0]?.code === 'TIMESTAMP_TOO_OLD', {
        what: `${url} to apply the tenant's limits`,
      });
    }
    const accepted = [0, 0];
    const statuses = new Map<number, number>();
    let sent = 0;
    const durationMs = 6_000;
    const started = Date.now();
    // Three connections per gateway, 10 events a request, a pause of 10 ms after each: several times the limit.
    await Promise.all(
      [0, 1, 0, 1, 0, 1].map(async (g, client) => {
        while (Date.now() - started < durationMs) {
          const n = sent++;
          const events = Array.from({ length: 10 }, (_, i) => ({ customerId: `c${client}`, metricName: 'm', eventId: `e-${n}-${i}` }));
          const response = await h.post({ events }, ingestKey, 'application/json', gateways[g]);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status === 202) accepted[g] += 10;
          else if (response.status === 429) expect(response.body.error.code).toBe('RATE_LIMITED');
          await new Promise((r) => setTimeout(r, 10));
        }
      }),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const total = accepted[0] + accepted[1];
    const offered = sent * 10;
    console.log(
      `two gateways, limit ${rate}/s, ${elapsedS.toFixed(1)} s: offered ${offered} events, accepted ${accepted.join(' + ')} = ${total} ` +
        `(bound ${Math.floor(rate * elapsedS + rate)}); answers ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect([...statuses.keys()].sort()).toEqual([202, 429]);
    // Offered at least twice the limit, so one gateway per limit would have shown it.
    expect(offered).toBeGreaterThan(2 * (rate * elapsedS + rate));
    // Everything both accepted in the interval: at most the rate over it plus one second's burst.
    expect(total).toBeLessThanOrEqual(rate * elapsedS + rate);
    expect(total).toBeGreaterThanOrEqual(rate * elapsedS * 0.5);
    expect(accepted[0]).toBeGreaterThan(0);
    expect(accepted[1]).toBeGreaterThan(0);
  });
});
