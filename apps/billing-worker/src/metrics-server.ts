import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { Gauge, type Registry } from 'prom-client';

/** A free loopback port for the Temporal SDK's exporter (it binds in native code, so it must be told one). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * The worker's one HTTP endpoint: `/health` and `/metrics`. `/metrics` is this process's prom-client
 * registry followed by the Temporal SDK's own metrics (`temporal_*`: task slots, poll and schedule-to-
 * start latencies, workflow and activity completions and failures), which the SDK's native Prometheus
 * exporter serves on a loopback port; serving both on one port keeps a single scrape target.
 * Their names never overlap (`temporal_` against `tally_`, `process_`, `nodejs_`), so the two
 * expositions concatenate into one valid one.
 */
export function startMetricsServer(options: {
  registry: Registry;
  sdkMetricsUrl: string;
  health: () => { ok: boolean; body: unknown };
  host: string;
  port: number;
}): Server {
  const sdkUp = new Gauge({
    name: 'tally_billing_sdk_metrics_up',
    help: '1 when the Temporal SDK metrics could be read at the last scrape',
    registers: [options.registry],
  });
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/health') {
        const { ok, body } = options.health();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
        return;
      }
      if (req.url === '/metrics') {
        let sdk = '';
        try {
          const answer = await fetch(options.sdkMetricsUrl, { signal: AbortSignal.timeout(2_000) });
          if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
          sdk = await answer.text();
          sdkUp.set(1);
        } catch {
          sdkUp.set(0);
        }
        const own = await options.registry.metrics();
        res.writeHead(200, { 'content-type': options.registry.contentType });
        res.end(sdk ? `${own}\n${sdk}` : own);
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Not found' } }));
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.listen(options.port, options.host);
  return server;
}
