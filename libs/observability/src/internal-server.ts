import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger';

/** A dependency the service cannot work without; the internal `/health` answers 503 while any check fails. */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, string>;
}

/** Runs every check at once; a check that throws is reported as `failing: <message>`. */
export async function runHealthChecks(checks: readonly HealthCheck[]): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        await c.check();
        return [c.name, 'ok'] as const;
      } catch (e) {
        return [c.name, `failing: ${(e as Error).message}`] as const;
      }
    }),
  );
  const healthy = results.every(([, r]) => r === 'ok');
  return { status: healthy ? 'ok' : 'degraded', checks: Object.fromEntries(results) };
}

export interface InternalServerOptions {
  /** `TALLY_INTERNAL_HOST`: loopback by default, so only the machine (or pod) itself can reach it. */
  host: string;
  /** `<APP>_INTERNAL_PORT`; 0 takes any free port (tests), read back from `InternalServer.port`. */
  port: number;
  registry: Registry;
  checks: () => readonly HealthCheck[];
  /** More exposition text served after the registry's (the billing worker's Temporal SDK metrics). */
  extraMetrics?: () => Promise<string>;
  logger?: Logger;
}

export interface InternalServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The operator's listener, separate from the public API: `/metrics` (labelled by tenant, so it
 * tells who uses Tally and how much) and the detailed `/health` (which names the dependencies and
 * their errors). The public port keeps only a plain liveness answer. One implementation for every
 * app, Nest or not (the billing worker has no public port, only this one). See
 * docs/operations.md#internal-port.
 */
export async function startInternalServer(options: InternalServerOptions): Promise<InternalServer> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/health') {
        const report = await runHealthChecks(options.checks());
        res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(report));
        return;
      }
      if (req.method === 'GET' && path === '/metrics') {
        // The extra text first: reading it may set a gauge of the registry (whether it could be read).
        const extra = options.extraMetrics ? await options.extraMetrics() : '';
        const own = await options.registry.metrics();
        res.writeHead(200, { 'content-type': options.registry.contentType });
        res.end(extra ? `${own}\n${extra}` : own);
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Not found' } }));
    })().catch((error: unknown) => {
      options.logger?.warn({ err: error }, 'internal listener request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  // The bound port in the log: with port 0 this line is where an operator finds it.
  options.logger?.info({ internalUrl: url, internalPort: port }, 'internal listener (metrics, health)');
  return {
    port,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
