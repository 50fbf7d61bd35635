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
 * The Temporal SDK's own metrics (`temporal_*`: task slots, poll and schedule-to-start latencies,
 * workflow and activity completions and failures), which the SDK's native Prometheus exporter serves
 * on a loopback port, read at each scrape of the internal listener's `/metrics` and served after this
 * process's prom-client registry: a single scrape target. Their names never overlap (`temporal_`
 * against `tally_`, `process_`, `nodejs_`), so the two expositions concatenate into one valid one.
 */
export function sdkMetrics(registry: Registry, sdkMetricsUrl: string): () => Promise<string> {
  const sdkUp = new Gauge({
    name: 'tally_billing_sdk_metrics_up',
    help: '1 when the Temporal SDK metrics could be read at the last scrape',
    registers: [registry],
  });
  return async () => {
    try {
      const answer = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2_000) });
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      const text = await answer.text();
      sdkUp.set(1);
      return text;
    } catch {
      sdkUp.set(0);
      return '';
    }
  };
}
