import { jetstreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { connectNats, natsNames, type NatsConnection } from '@tally/nats';
import { createLogger } from '@tally/observability';
import { randomPrefix, testNatsAuth, testNatsUrl, waitFor } from '@tally/testing';
import { AlertDispatcher } from './alert-dispatcher';
import type { AlertEnvelope } from './alert-envelope';
import { AlertStateStore } from './alert-state';

/**
 * The alert path on a real NATS server, as two instances (two connections) use it: a crossing fires
 * once across instances; a failed action leaves the alert claimed and it is delivered again (same id)
 * after the claim timeout, then never again.
 */
describe('alert dispatcher (real NATS, two instances)', () => {
  const names = natsNames(randomPrefix());
  const logger = createLogger('alert-dispatcher.int-spec', process.env.LOG_LEVEL ?? 'silent');
  const claimTimeoutMs = 300;
  let a: NatsConnection;
  let b: NatsConnection;
  let sub: Subscription;
  const published: AlertEnvelope[] = [];

  const dispatcher = (nc: NatsConnection) =>
    new AlertDispatcher(nc, (tenant) => names.alertsSubject(tenant), new AlertStateStore(nc, names), logger, {
      claimTimeoutMs,
    });
  const alert = (customer: string): AlertEnvelope => ({
    id: `alr_${customer}`,
    type: 'test.threshold_crossed',
    tenant: 'acme',
    customer,
    period: { from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z', timezone: 'UTC' },
    firedAt: new Date().toISOString(),
  });
  const periodEnd = Date.parse('2027-01-01T00:00:00Z');

  beforeAll(async () => {
    a = await connectNats(testNatsUrl(), 'alert-dispatcher.int-spec a', testNatsAuth());
    b = await connectNats(testNatsUrl(), 'alert-dispatcher.int-spec b', testNatsAuth());
    sub = a.subscribe(names.alertsSubject('acme'));
    void (async () => {
      for await (const m of sub) published.push(m.json<AlertEnvelope>());
    })();
  });

  afterAll(async () => {
    sub.unsubscribe();
    await (await jetstreamManager(a)).streams.delete(`KV_${names.alertStateBucket}`).catch(() => undefined);
    await a.close();
    await b.close();
  });

  it('fires a crossing seen by two instances at once exactly once', async () => {
    const [first, second] = [dispatcher(a), dispatcher(b)];
    const actions: string[] = [];
    const route = { action: async (x: AlertEnvelope) => void actions.push(x.customer) };
    const fired = await Promise.all(
      [first, second].map((d) => d.fire('acme.rule.c1', alert('c1'), periodEnd, route, new Date())),
    );
    await Promise.all([first.idle(), second.idle()]);
    expect(fired.filter(Boolean)).toHaveLength(1);
    expect(actions).toEqual(['c1']);
    // Later evaluations, on either instance: nothing more.
    expect(await first.fire('acme.rule.c1', alert('c1'), periodEnd, route, new Date())).toBe(false);
    expect(await dispatcher(b).fire('acme.rule.c1', alert('c1'), periodEnd, route, new Date())).toBe(false);
    await waitFor(async () => published.filter((p) => p.customer === 'c1').length === 1, {
      what: 'one alert on NATS',
    });
  });

  it('delivers again, with the same id, after an action failed and the claim timed out; then never again', async () => {
    const d = dispatcher(a);
    const tried: string[] = [];
    let failures = 1;
    const route = {
      action: async (x: AlertEnvelope) => {
        tried.push(x.id);
        if (failures-- > 0) throw new Error('Temporal unreachable');
      },
    };
    expect(await d.fire('acme.rule.c2', alert('c2'), periodEnd, route, new Date())).toBe(true);
    await d.idle();
    expect(tried).toEqual(['alr_c2']);
    // Within the claim timeout the failed alert is still someone's: not fired again.
    expect(
      await d.fire('acme.rule.c2', { ...alert('c2'), id: 'alr_other' }, periodEnd, route, new Date()),
    ).toBe(false);
    await new Promise((r) => setTimeout(r, claimTimeoutMs + 100));
    // Taken over by another instance: the original alert (its id), and the action runs again.
    const other = dispatcher(b);
    expect(
      await other.fire('acme.rule.c2', { ...alert('c2'), id: 'alr_other' }, periodEnd, route, new Date()),
    ).toBe(true);
    await other.idle();
    expect(tried).toEqual(['alr_c2', 'alr_c2']);
    const state = await new AlertStateStore(a, names).get('acme.rule.c2');
    expect(state?.record.status).toBe('delivered');
    await new Promise((r) => setTimeout(r, claimTimeoutMs + 100));
    expect(await d.fire('acme.rule.c2', alert('c2'), periodEnd, route, new Date())).toBe(false);
    expect(await dispatcher(b).fire('acme.rule.c2', alert('c2'), periodEnd, route, new Date())).toBe(false);
    expect(tried).toHaveLength(2);
  });
});
