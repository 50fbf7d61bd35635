import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { opsBinary, repoRoot } from './ops-binaries';

const chart = path.join(repoRoot, 'deploy/helm/tally');

interface Container {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  envFrom: { configMapRef: { name: string } }[];
  startupProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };

  livenessProbe: { tcpSocket: { port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
    ports?: { port: number; targetPort: string }[];
  };
}

function template(...set: string[]): Manifest[] {
  const out = execFileSync(
    opsBinary('helm'),
    ['template', 'prod', chart, ...set.flatMap((s) => ['--set', s])],
    {
      encoding: 'utf8',
    },
  );
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

describe('Helm chart deploy/helm/tally', () => {
  it('passes helm lint --strict', () => {
    expect(execFileSync(opsBinary('helm'), ['lint', '--strict', chart], { encoding: 'utf8' })).toContain(
      '0 chart(s) failed',
    );
  });

  it('renders the four services with their config, ports, probes, resources and replicas', () => {
    const manifests = template(
      'nats.url=nats://nats.infra:4222',
      'clickhouse.url=http://ch.infra:8123',
      'clickhouse.existingSecret=ch-credentials',
      'temporal.address=temporal.infra:7233',
      'image.registry=registry.example.com/tally',
      'image.tag=1.2.3',
      'gateway.replicas=3',
      'writer.env.WRITER_MAX_BATCH_BYTES=4194304',
    );
    const kinds = manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
    expect(kinds).toEqual([
      'ConfigMap/prod-tally',
      'Deployment/prod-tally-billing-worker',
      'Deployment/prod-tally-gateway',
      'Deployment/prod-tally-query',
      'Deployment/prod-tally-writer',
      // none for the billing worker: it has no public API, only its internal port
      'Service/prod-tally-gateway',
      'Service/prod-tally-query',
      'Service/prod-tally-writer',
      // no Secret: the ClickHouse password comes from the existing one
    ]);
    const config = manifests.find((m) => m.kind === 'ConfigMap')?.data;
    expect(config).toMatchObject({
      NATS_URL: 'nats://nats.infra:4222',
      CLICKHOUSE_URL: 'http://ch.infra:8123',
      TEMPORAL_ADDRESS: 'temporal.infra:7233',
    });

    const ports = { gateway: 3000, query: 3001, writer: 3002, 'billing-worker': undefined };
    const internalPorts = { gateway: 9400, query: 9401, writer: 9402, 'billing-worker': 9403 };
    const replicas = { gateway: 3, query: 2, writer: 1, 'billing-worker': 1 };
    for (const [app, port] of Object.entries(ports) as [keyof typeof ports, number | undefined][]) {
      const deployment = manifests.find(
        (m) => m.kind === 'Deployment' && m.metadata.name === `prod-tally-${app}`,
      ) as Manifest & { spec: { template: { metadata: { annotations: Record<string, string> } } } };
      expect(deployment.spec.replicas).toBe(replicas[app]);
      expect(deployment.spec.template.metadata.labels).toMatchObject(
        deployment.spec.selector?.matchLabels ?? { missing: true },
      );
      const [container] = deployment.spec.template.spec.containers;
      expect(container.image).toBe(`registry.example.com/tally/tally-${app}:1.2.3`);
      const internal = { name: 'internal', containerPort: internalPorts[app], protocol: 'TCP' };
      expect(container.ports).toEqual(port ? [{ name: 'http', containerPort: port, protocol: 'TCP' }, internal] : [internal]);
      // Startup and readiness read the detailed /health on the internal port (docs/operations.md#internal-port).
      expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: 'internal' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/health', port: 'internal' });
      expect(container.livenessProbe.tcpSocket).toEqual({ port: port ? 'http' : 'internal' });
      // Prometheus scrapes the internal port: /metrics is not on the public one.
      expect(deployment.spec.template.metadata.annotations).toMatchObject({
        'prometheus.io/port': String(internalPorts[app]),
        'prometheus.io/path': '/metrics',
      });
      expect(container.resources.requests).toHaveProperty('memory');
      expect(container.resources.limits).toHaveProperty('memory');
      const env = Object.fromEntries(container.env.map((e) => [e.name, e.value ?? e.valueFrom]));
      const prefix = app.toUpperCase().replace('-', '_');
      expect(env[`${prefix}_INTERNAL_PORT`]).toBe(String(internalPorts[app]));
      expect(env.TALLY_INTERNAL_HOST).toBe('0.0.0.0');
      if (port) {
        expect(env[`${prefix}_PORT`]).toBe(String(port));
        expect(env[`${prefix}_HOST`]).toBe('0.0.0.0');
      } else {
        expect(Object.keys(env)).not.toContain(`${prefix}_PORT`);
      }
      expect(env.CLICKHOUSE_PASSWORD).toEqual({ secretKeyRef: { name: 'ch-credentials', key: 'password' } });
      expect(container.envFrom).toEqual([{ configMapRef: { name: 'prod-tally' } }]);
      const service = manifests.find((m) => m.kind === 'Service' && m.metadata.name === `prod-tally-${app}`);
      // The Service routes to the public port only, never to the internal one.
      if (port) expect(service?.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }]);
      else expect(service).toBeUndefined();
    }
    const writer = manifests.find(
      (m) => m.kind === 'Deployment' && m.metadata.name === 'prod-tally-writer',
    ) as Manifest;
    expect(writer.spec.template.spec.containers[0].env).toContainEqual({
      name: 'WRITER_MAX_BATCH_BYTES',
      value: '4194304',
    });
  });

  it('keeps a ClickHouse password given in values in a Secret, and leaves out disabled services', () => {
    const manifests = template('clickhouse.password=s3cret', 'query.enabled=false');
    const secret = manifests.find((m) => m.kind === 'Secret') as Manifest & {
      stringData: Record<string, string>;
    };
    expect(secret.stringData).toEqual({ password: 's3cret' });
    expect(manifests.filter((m) => m.metadata.name === 'prod-tally-query')).toEqual([]);
    expect(manifests.filter((m) => m.kind === 'Deployment')).toHaveLength(3);
  });

  it('gives the query service a read-only ClickHouse user for tenants\' queries when one is set (docs/security.md#clickhouse)', () => {
    const manifests = template('clickhouse.password=s3cret', 'clickhouse.readerUser=tally_reader', 'clickhouse.readerPassword=r3ader');
    const secret = manifests.find((m) => m.kind === 'Secret') as Manifest & { stringData: Record<string, string> };
    expect(secret.stringData).toEqual({ password: 's3cret', readerPassword: 'r3ader' });
    const envOf = (app: string) =>
      manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === `prod-tally-${app}`)?.spec.template.spec.containers[0].env ?? [];
    expect(envOf('query')).toEqual(
      expect.arrayContaining([
        { name: 'CLICKHOUSE_READER_USER', value: 'tally_reader' },
        { name: 'CLICKHOUSE_READER_PASSWORD', valueFrom: { secretKeyRef: { name: 'prod-tally-clickhouse', key: 'readerPassword' } } },
      ]),
    );
    for (const app of ['gateway', 'writer', 'billing-worker']) expect(envOf(app).map((e) => e.name)).not.toContain('CLICKHOUSE_READER_USER');
    expect(template().find((m) => m.kind === 'Deployment' && m.metadata.name === 'prod-tally-query')?.spec.template.spec.containers[0].env.map((e) => e.name)).not.toContain(
      'CLICKHOUSE_READER_USER',
    );
  });

  it('gives every service the NATS user from the config map and its password from a Secret (docs/security.md)', () => {
    const manifests = template('nats.user=tally-services', 'nats.password=nats-s3cret');
    expect(manifests.find((m) => m.kind === 'ConfigMap')?.data).toMatchObject({ NATS_USER: 'tally-services' });
    const secret = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === 'prod-tally-nats') as unknown as {
      stringData: Record<string, string>;
    };
    expect(secret.stringData).toEqual({ password: 'nats-s3cret' });
    for (const d of manifests.filter((m) => m.kind === 'Deployment')) {
      expect(d.spec.template.spec.containers[0].env).toContainEqual({
        name: 'NATS_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'prod-tally-nats', key: 'password' } },
      });
    }
    const existing = template('nats.user=svc', 'nats.existingSecret=nats-credentials');
    expect(existing.filter((m) => m.metadata.name === 'prod-tally-nats')).toEqual([]);
    expect(existing.find((m) => m.kind === 'Deployment')?.spec.template.spec.containers[0].env).toContainEqual({
      name: 'NATS_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'nats-credentials', key: 'password' } },
    });
    // Without a user, no NATS password at all.
    const none = template();
    expect(none.find((m) => m.kind === 'Deployment')?.spec.template.spec.containers[0].env.map((e) => e.name)).not.toContain('NATS_PASSWORD');
  });
});
