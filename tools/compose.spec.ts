import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { TALLY_NATS_SERVER_VERSION } from '@tally/testing';

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: (string | { published: number | string; target: number | string })[];
  environment?: Record<string, string> | string[];
  depends_on?: unknown;
  command?: string[];
  volumes?: string[];
}

const compose = parse(readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};

const publishedPorts = (service: ComposeService): string[] =>
  (service.ports ?? []).map((p) => (typeof p === 'string' ? p.split(':').slice(-2).join(':') : `${p.published}:${p.target}`));

describe('docker-compose.yml', () => {
  it('declares the infrastructure on the engine versions the suites check, with their ports', () => {
    const { clickhouse, nats, temporal } = compose.services;
    // ClickHouse 26: the generation the chDB parity suite runs every statement on
    expect(clickhouse.image).toMatch(/^clickhouse\/clickhouse-server:26\.\d+/);
    expect(publishedPorts(clickhouse)).toEqual(expect.arrayContaining(['8123:8123']));
    // NATS: the exact version tools/infra/infra.sh builds, on Tally's own ports
    expect(nats.image).toBe(`nats:${TALLY_NATS_SERVER_VERSION}`);
    expect(publishedPorts(nats)).toEqual(expect.arrayContaining(['4322:4322', '8322:8322']));
    expect(temporal.image).toMatch(/^temporalio\//);
    expect(publishedPorts(temporal)).toEqual(expect.arrayContaining(['7233:7233']));
    expect(publishedPorts(compose.services['temporal-ui'])).toEqual(expect.arrayContaining(['8233:8080']));
  });

  it('runs NATS from the configuration file infra.sh uses, with its include files', () => {
    const { nats } = compose.services;
    expect(nats.volumes).toContain('./tools/infra/nats:/etc/nats:ro');
    expect(nats.command?.slice(0, 2)).toEqual(['-c', '/etc/nats/tally.conf']);
    const conf = readFileSync(path.join(__dirname, 'infra', 'nats', 'tally.conf'), 'utf8');
    expect(conf).toMatch(/^port: 4322$/m);
    expect(conf).toMatch(/^http_port: 8322$/m);
    for (const [, file] of conf.matchAll(/^include \.\/(\S+)$/gm)) {
      expect(existsSync(path.join(__dirname, 'infra', 'nats', file))).toBe(true);
    }
  });

  it('provisions Prometheus with the rules and Grafana with the dashboards from deploy/', () => {
    const volumes = (name: string) => (compose.services[name] as ComposeService & { volumes: string[] }).volumes;
    expect(compose.services.prometheus.image).toMatch(/^prom\/prometheus:v3/);
    expect(volumes('prometheus')).toEqual(
      expect.arrayContaining([
        './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
        './deploy/prometheus/rules:/etc/prometheus/rules:ro',
      ]),
    );
    expect(volumes('grafana')).toEqual(
      expect.arrayContaining([
        './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
        './deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro',
      ]),
    );
  });

  it('builds the four Tally services from one Dockerfile, each on its port', () => {
    const expected: Record<string, string | undefined> = {
      gateway: '3000:3000',
      query: '3001:3001',
      writer: '3002:3002',
      'billing-worker': undefined, // no public API
    };
    for (const [name, port] of Object.entries(expected)) {
      const service = compose.services[name];
      expect(service).toBeDefined();
      expect(service.build).toBeDefined();
      expect(publishedPorts(service)).toEqual(port ? [port] : []);
    }
  });

  it('keeps /metrics and the detailed /health on internal ports that Prometheus scrapes and the host never sees', () => {
    const internal: Record<string, [string, number]> = {
      gateway: ['GATEWAY_INTERNAL_PORT', 9400],
      query: ['QUERY_INTERNAL_PORT', 9401],
      writer: ['WRITER_INTERNAL_PORT', 9402],
      'billing-worker': ['BILLING_WORKER_INTERNAL_PORT', 9403],
    };
    const prometheus = parse(readFileSync(path.join(__dirname, '..', 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    for (const [name, [variable, port]] of Object.entries(internal)) {
      const env = compose.services[name].environment as Record<string, string>;
      expect(env[variable]).toBe(String(port));
      expect(env.TALLY_INTERNAL_HOST ?? (compose as unknown as { 'x-tally-env': Record<string, string> })['x-tally-env'].TALLY_INTERNAL_HOST).toBe('0.0.0.0');
      expect(publishedPorts(compose.services[name]).some((p) => p.endsWith(`:${port}`))).toBe(false);
      const job = prometheus.scrape_configs.find((c) => c.job_name === `tally-${name}`);
      expect(job?.static_configs[0].targets).toEqual([`${name}:${port}`]);
    }
  });
});
