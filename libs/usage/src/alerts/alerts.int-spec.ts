/**
 * Alerts on the real servers: usage crosses a threshold → exactly one NATS message and one signed
 * webhook (delivered after a failed first attempt), and nothing more on later runs, on more usage,
 * or when two query instances evaluate at the same moment; a new period fires again.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Subscription } from '@nats-io/transport-node';
import { waitFor } from '@tally/testing';
import { UsageHarness, type TestEvent } from '../test-support/usage-harness';
import type { AlertMessage } from './alert-message';
import { AlertEvaluator } from './alert-evaluator';
import { verifyStandardWebhook } from '@tally/alerts/testing';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const use = (id: string, at: string, customer: string, quantity: string): TestEvent => ({
  tenant: 'acme',
  id,
  at,
  customer,
  type: 'api',
  quantity,
});

describe('usage alerts (real NATS and ClickHouse, local webhook receiver)', () => {
  const h = new UsageHarness({ webhookBackoffMs: 20, webhookMaxAttempts: 4, webhookTimeoutMs: 2_000, webhookAllow: ['127.0.0.1'] });
  const received: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
  let failNext = 1;
  let server: Server;
  let sub: Subscription;
  const messages: AlertMessage[] = [];
  let markersSent = 0;
  let markersSeen = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        // The receiver is down for the first delivery: the retry must get it there.
        res.statusCode = failNext-- > 0 ? 503 : 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await h.start();
    await h.tenant({ id: 'acme', timezone: 'UTC' });
    await h.store.putMeter({
      tenant: 'acme',
      key: 'api',
      name: 'API units',
      eventTypes: ['api'],
      aggregation: 'sum',
      valueProperty: 'quantity',
    });
    await h.store.putCustomer({ tenant: 'acme', id: 'c1' });
    await h.store.putAlertRule({
      tenant: 'acme',
      id: 'c1-100',
      meter: 'api',
      customer: 'c1',
      threshold: { kind: 'absolute', value: '100' },
      webhookUrl: `http://127.0.0.1:${port}/hooks/tally`,
      webhookSecret: SECRET,
    });
    await h.store.putAlertRule({
      tenant: 'acme',
      id: 'half',
      meter: 'api',
      threshold: { kind: 'percent_of_allowance', percent: 50, allowance: '1000' },
    });
    const billing = h.cache;
    await h.settle(
      () => h.cache.getMeter('acme', 'api') !== undefined && billing.listAlertRules('acme').length === 2,
    );
    sub = h.nc.subscribe(h.names.alertsSubject('acme'));
    void (async () => {
      for await (const m of sub) {
        const message = m.json<AlertMessage | { endMarker: number }>();
        if ('endMarker' in message) markersSeen = message.endMarker;
        else messages.push(message);
      }
    })();
  });

  afterAll(async () => {
    sub?.unsubscribe();
    await h.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** Runs the evaluator, waits for its deliveries, and returns how many alerts it fired. */
  const run = async (evaluator: AlertEvaluator = h.alerts) => {
    const report = await evaluator.runOnce();
    await evaluator.idle();
    await h.nc.flush();
    return report.fired;
  };
  /**
   * Proves that exactly `count` alerts were published, with a positive end marker instead of a quiet
   * period: every evaluator publishes on `h.nc` and `run` returned after its publishes, so a marker
   * published on the same connection now reaches the subscriber after every one of them (NATS keeps
   * one connection's messages in order).
   */
  const settleMessages = async (count: number) => {
    const marker = ++markersSent;
    h.nc.publish(h.names.alertsSubject('acme'), JSON.stringify({ endMarker: marker }));
    await waitFor(async () => markersSeen >= marker, { timeoutMs: 10_000, what: `end marker ${marker}` });
    expect(messages).toHaveLength(count);
  };

  it('fires once when usage crosses the threshold, with a signed webhook retried until delivered', async () => {
    await h.insert([use('u1', '2026-03-02T10:00:00.000Z', 'c1', '50')]);
    expect(await run()).toBe(0);
    await h.insert([use('u2', '2026-03-03T10:00:00.000Z', 'c1', '60.5')]);
    expect(await run()).toBe(1);
    await settleMessages(1);
    expect(messages[0]).toMatchObject({
      type: 'usage.threshold_crossed',
      tenant: 'acme',
      rule: 'c1-100',
      meter: 'api',
      series: 'api',
      customer: 'c1',
      usage: '110.5',
      thresholdValue: '100',
      period: { from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z', timezone: 'UTC' },
    });
    // One failed attempt, then the delivery: the same alert, signed each time.
    expect(received).toHaveLength(2);
    for (const r of received) {
      expect(JSON.parse(r.body)).toEqual(messages[0]);
      expect(r.headers['tally-alert-id']).toBe(messages[0].id);
      // Standard Webhooks: what receivers verify with the reference library.
      const headers = r.headers as Record<string, string>;
      expect(verifyStandardWebhook(SECRET, r.body, headers)).toBe(true);
      expect(verifyStandardWebhook('whsec_YW5vdGhlci1zZWNyZXQtdmFsdWUtMTIz', r.body, headers)).toBe(false);
    }
  });

  it('does not fire again on later runs or on more usage in the same period', async () => {
    expect(await run()).toBe(0);
    await h.insert([use('u3', '2026-03-04T10:00:00.000Z', 'c1', '1')]);
    expect(await run()).toBe(0);
    await settleMessages(1);
    expect(received).toHaveLength(2);
  });

  it('fires a percentage rule per customer, once, even with two instances evaluating at once', async () => {
    await h.insert([
      use('u4', '2026-03-05T10:00:00.000Z', 'c1', '400'),
      use('u5', '2026-03-05T10:00:00.000Z', 'c9', '499.99'),
    ]);
    const replica = (await h.startReplica()).get(AlertEvaluator);
    const [a, b] = await Promise.all([run(h.alerts), run(replica)]);
    expect(a + b).toBe(1); // c1 at 511.5 ≥ 500; c9 (not in the catalog) below
    await settleMessages(2);
    expect(messages[1]).toMatchObject({
      rule: 'half',
      customer: 'c1',
      usage: '511.5',
      thresholdValue: '500',
    });
    await h.insert([use('u6', '2026-03-06T10:00:00.000Z', 'c9', '0.01')]);
    const [c, d] = await Promise.all([run(h.alerts), run(replica)]);
    expect(c + d).toBe(1);
    await settleMessages(3);
    expect(messages[2]).toMatchObject({ rule: 'half', customer: 'c9', usage: '500' });
    expect(received).toHaveLength(2); // the percentage rule has no webhook
  });

  it('fires again in the next period', async () => {
    h.clock = new Date('2026-04-02T00:00:00Z');
    expect(await run()).toBe(0);
    await h.insert([use('u7', '2026-04-01T10:00:00.000Z', 'c1', '100')]);
    expect(await run()).toBe(1);
    await settleMessages(4);
    expect(messages[3]).toMatchObject({
      rule: 'c1-100',
      usage: '100',
      period: { from: '2026-04-01T00:00:00.000Z' },
    });
    expect(messages[3].id).not.toBe(messages[0].id);
    expect(received).toHaveLength(3);
  });
});
