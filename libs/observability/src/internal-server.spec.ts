import pino from 'pino';
import { Gauge, Registry } from 'prom-client';
import { startInternalServer, type HealthCheck, type InternalServer } from './internal-server';

describe('startInternalServer: /metrics and the detailed /health for every app', () => {
  let server: InternalServer;
  let up = true;
  const lines: Array<{ msg: string; internalPort?: number }> = [];
  const registry = new Registry();
  const extraRead = new Gauge({
    name: 'probe_extra_reads',
    help: 'set while the extra text is read',
    registers: [registry],
  });
  let reads = 0;
  const checks: HealthCheck[] = [
    { name: 'nats', check: async () => undefined },
    {
      name: 'temporal',
      check: async () => {
        if (!up) throw new Error('worker draining');
      },
    },
  ];

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    server = await startInternalServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      checks: () => checks,
      extraMetrics: async () => {
        extraRead.set(++reads);
        return 'temporal_probe_total 7';
      },
      logger,
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('binds port 0 to a free port and logs the port it bound', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(lines.find((l) => l.msg === 'internal listener (metrics, health)')?.internalPort).toBe(
      server.port,
    );
  });

  it('serves the registry followed by the extra text, read first so a gauge it sets is current in the same scrape', async () => {
    const response = await fetch(`${server.url}/metrics?scrape=1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    const text = await response.text();
    expect(text).toContain(`probe_extra_reads ${reads}`);
    expect(text.trimEnd().endsWith('temporal_probe_total 7')).toBe(true);
  });

  it('answers /health 200 naming every check, and 503 naming the failing one', async () => {
    up = true;
    let r = await fetch(`${server.url}/health`);
    expect([r.status, await r.json()]).toEqual([
      200,
      { status: 'ok', checks: { nats: 'ok', temporal: 'ok' } },
    ]);
    up = false;
    r = await fetch(`${server.url}/health`);
    expect([r.status, await r.json()]).toEqual([
      503,
      { status: 'degraded', checks: { nats: 'ok', temporal: 'failing: worker draining' } },
    ]);
    up = true;
  });

  it('answers 404 to anything else and to other methods', async () => {
    expect((await fetch(`${server.url}/v1/tenant`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(404);
  });

  it('refuses to start on a port already taken (the app fails at boot, not silently)', async () => {
    await expect(
      startInternalServer({ host: '127.0.0.1', port: server.port, registry, checks: () => [] }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
