import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { homedir } from 'node:os';
import path from 'node:path';

/** The stripe-mock version tools/infra/infra.sh builds (`infra.sh documents`). */
export const STRIPE_MOCK_VERSION = 'v0.203.0';

/** stripe-mock's binary: STRIPE_MOCK_BIN, else Go's bin directories (where infra.sh builds it), else PATH. */
export function stripeMockBin(): string {
  if (process.env.STRIPE_MOCK_BIN) return process.env.STRIPE_MOCK_BIN;
  const candidates = [
    process.env.GOBIN && path.join(process.env.GOBIN, 'stripe-mock'),
    process.env.GOPATH && path.join(process.env.GOPATH.split(':')[0], 'bin', 'stripe-mock'),
    path.join(homedir(), 'go', 'bin', 'stripe-mock'),
  ].filter((c): c is string => !!c);
  return candidates.find((c) => existsSync(c)) ?? 'stripe-mock';
}

/** One request that reached Stripe's API through `StripeRecorder`. */
export interface RecordedStripeCall {
  method: string;
  path: string;
  idempotencyKey?: string;
  /** The form-encoded body, decoded. */
  params: URLSearchParams;
  status: number;
}

export interface StripeMock {
  /** Base URL of the recorder in front of stripe-mock: give it to the code under test. */
  url: string;
  calls: RecordedStripeCall[];
  output(): string;
  stop(): Promise<void>;
}

const listen = (server: Server, port: number) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });

/**
 * Starts stripe-mock on `mockPort` (loopback) behind a recording HTTP proxy on `proxyPort`: stripe-mock
 * keeps no state, so what the code under test created is observed in the calls it made. Waits until
 * stripe-mock answers.
 */
export async function startStripeMock(mockPort: number, proxyPort: number): Promise<StripeMock> {
  const child = spawn(stripeMockBin(), ['-http-addr', `127.0.0.1:${mockPort}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const calls: RecordedStripeCall[] = [];
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const upstream = request(
        { host: '127.0.0.1', port: mockPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const key = req.headers['idempotency-key'];
          calls.push({
            method: req.method ?? '',
            path: (req.url ?? '').split('?')[0],
            ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
            params: new URLSearchParams(body.toString('utf8')),
            status: answer.statusCode ?? 0,
          });
          res.writeHead(answer.statusCode ?? 502, answer.headers as IncomingHttpHeaders);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  await listen(proxy, proxyPort);
  const url = `http://127.0.0.1:${proxyPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${mockPort}/v1/balance`, {
      headers: { authorization: 'Bearer sk_test_123' },
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      proxy.close();
      throw new Error(`stripe-mock did not start on port ${mockPort}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    calls,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
