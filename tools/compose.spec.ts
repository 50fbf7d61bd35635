import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: (string | { published: number | string; target: number | string })[];
  environment?: Record<string, string> | string[];
  depends_on?: unknown;
}

const compose = parse(readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};

const publishedPorts = (service: ComposeService): string[] =>
  (service.ports ?? []).map((p) => (typeof p === 'string' ? p.split(':').slice(-2).join(':') : `${p.published}:${p.target}`));

describe('docker-compose.yml', () => {
  it('declares the infrastructure on modern images with their usual ports', () => {
    const { clickhouse, nats, temporal } = compose.services;
    expect(clickhouse.image).toMatch(/^clickhouse\/clickhouse-server:(2[4-9]|[3-9]\d)/);
    expect(publishedPorts(clickhouse)).toEqual(expect.arrayContaining(['8123:8123']));
    expect(nats.image).toMatch(/^nats:/);
    expect(publishedPorts(nats)).toEqual(expect.arrayContaining(['4222:4222']));
    expect(temporal.image).toMatch(/^temporalio\//);
    expect(publishedPorts(temporal)).toEqual(expect.arrayContaining(['7233:7233']));
    expect(publishedPorts(compose.services['temporal-ui'])).toEqual(expect.arrayContaining(['8233:8080']));
  });

  it('builds the four Tally services from one Dockerfile, each on its port', () => {
    const expected: Record<string, string> = {
      gateway: '3000:3000',
      query: '3001:3001',
      writer: '3002:3002',
      'billing-worker': '3003:3003',
    };
    for (const [name, port] of Object.entries(expected)) {
      const service = compose.services[name];
      expect(service).toBeDefined();
      expect(service.build).toBeDefined();
      expect(publishedPorts(service)).toContain(port);
    }
  });
});
