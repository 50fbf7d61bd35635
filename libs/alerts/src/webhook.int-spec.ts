import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookDestinationPolicy } from '@tally/catalog';
import { verifyStandardWebhook } from './test-support/standard-webhooks';
import { deliverWebhook, signWebhook } from './webhook';

/** Webhook delivery against a real HTTP receiver on loopback (allowed only where a test says so). */
describe('webhook delivery', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const policy = { maxAttempts: 3, backoffMs: 10, timeoutMs: 3_000 };
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  let endless = false;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        if (!endless) return void res.writeHead(204).end();
        // An answer that never ends: Tally must stop reading, not buffer it.
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
    endless = false;
  });

  it.each([
    ['http://127.0.0.1:PORT/hook', 'loopback'],
    ['http://localhost:PORT/hook', 'loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://10.0.0.1/hook', 'private'],
    ['http://[::1]:PORT/hook', 'loopback'],
  ])('refuses %s at send time (%s), without connecting and without retrying', async (url, why) => {
    const result = await deliverWebhook(
      { url: url.replace('PORT', String(port)), body: '{}', secret, id: 'alr_1' },
      policy,
    );
    expect(result).toMatchObject({ delivered: false, refused: true, attempts: 1 });
    expect(result.error).toContain(`a ${why} address`);
    expect(received).toHaveLength(0);
  });

  it('delivers where the operator allow-list says so, signed in the Standard Webhooks format', async () => {
    const body = JSON.stringify({ id: 'alr_2', type: 'usage.threshold_crossed' });
    const result = await deliverWebhook(
      { url: `http://127.0.0.1:${port}/hook`, body, secret, id: 'alr_2' },
      policy,
      {
        destinations: WebhookDestinationPolicy.parse('127.0.0.1/32'),
        now: () => Date.now(),
      },
    );
    expect(result).toEqual({ delivered: true, attempts: 1, status: 204 });
    const [r] = received;
    expect(r.headers['webhook-id']).toBe('alr_2');
    expect(verifyStandardWebhook(secret, r.body, r.headers as Record<string, string>)).toBe(true);
    expect(
      verifyStandardWebhook(
        'whsec_YW5vdGhlci1zZWNyZXQtdmFsdWUtMTIz',
        r.body,
        r.headers as Record<string, string>,
      ),
    ).toBe(false);
    expect(JSON.stringify(r.headers)).not.toContain(secret);
    // The specification's published example (Svix/standardwebhooks docs), byte for byte.
    expect(
      signWebhook(
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('reads a bounded part of the answer: a receiver that never stops sending does not hold the delivery', async () => {
    endless = true;
    const started = Date.now();
    const result = await deliverWebhook(
      { url: `http://127.0.0.1:${port}/hook`, body: '{}', id: 'alr_3' },
      policy,
      {
        destinations: WebhookDestinationPolicy.parse('127.0.0.1'),
        maxResponseBytes: 256 * 1024,
      },
    );
    expect(result).toEqual({ delivered: true, attempts: 1, status: 200 });
    expect(Date.now() - started).toBeLessThan(policy.timeoutMs);
  });
});
