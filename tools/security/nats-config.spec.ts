import { parse as parseYaml } from 'yaml';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ingestInboxPrefix, isInboxSubject, natsAuthorizationConf, natsNames } from '@tally/nats';
import { runTally } from '../cli/cli';

const root = path.resolve(__dirname, '../..');
const noConnection = {
  readFile: () => Promise.reject(new Error('not used')),
  connect: () => Promise.reject(new Error('not used')),
};

describe("Tally's NATS server configuration", () => {
  it('accounts.conf holds the authorization block @tally/nats generates: the services user, password from the environment', () => {
    const conf = readFileSync(path.join(root, 'tools/infra/nats/accounts.conf'), 'utf8');
    const block = conf.slice(conf.indexOf('authorization {'));
    expect(block).toBe(
      natsAuthorizationConf({
        names: natsNames('tally'),
        services: { user: 'tally-services', password: { env: 'TALLY_NATS_SERVICES_PASSWORD' } },
        ingest: [],
      }),
    );
    expect(readFileSync(path.join(root, 'tools/infra/nats/tally.conf'), 'utf8')).toMatch(/^include \.\/accounts\.conf$/m);
  });

  it('infra.sh passes the services password to the server it starts and prints the credentials', () => {
    const infra = readFileSync(path.join(root, 'tools/infra/infra.sh'), 'utf8');
    expect(infra).toMatch(/export TALLY_NATS_SERVICES_PASSWORD=/);
    expect(infra).toMatch(/NATS_USER=/);
    expect(infra).toMatch(/NATS_PASSWORD=/);
  });

  it('docker-compose passes the services password to NATS and the credentials to every service', () => {
    const compose = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    expect(compose).toMatch(/TALLY_NATS_SERVICES_PASSWORD: \$\{TALLY_NATS_SERVICES_PASSWORD:\?/);
    expect(compose).toMatch(/NATS_USER: tally-services/);
    expect(compose).toMatch(/NATS_PASSWORD: \$\{TALLY_NATS_SERVICES_PASSWORD:\?/);
  });

  it('docker-compose has no password-less ClickHouse: each service has its own user, query a read-only one, passwords from .env', () => {
    const text = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/CLICKHOUSE_SKIP_USER_SETUP/);
    expect(text).toMatch(/- '127\.0\.0\.1:8123:8123'/);
    const services = (parseYaml(text) as { services: Record<string, { environment: Record<string, string>; volumes?: string[] }> }).services;
    const fromEnvFile = (variable: string) => `\${${variable}:?set ${variable} in .env (see .env.example)}`;
    const clickhouse = services.clickhouse.environment;
    expect(clickhouse.CLICKHOUSE_PASSWORD).toBe(fromEnvFile('TALLY_CLICKHOUSE_PASSWORD'));
    expect(services.clickhouse.volumes).toContain('./tools/infra/clickhouse/docker-init:/docker-entrypoint-initdb.d:ro');
    const users: Record<string, [string, string]> = {
      writer: ['tally_writer', 'TALLY_CLICKHOUSE_WRITER_PASSWORD'],
      query: ['tally_query', 'TALLY_CLICKHOUSE_QUERY_PASSWORD'],
      'billing-worker': ['tally_billing', 'TALLY_CLICKHOUSE_BILLING_PASSWORD'],
    };
    const envExample = readFileSync(path.join(root, '.env.example'), 'utf8');
    for (const [service, [user, variable]] of Object.entries(users)) {
      expect([service, services[service].environment.CLICKHOUSE_USER, services[service].environment.CLICKHOUSE_PASSWORD]).toEqual([service, user, fromEnvFile(variable)]);
      // The init script creates the user with the password the ClickHouse container gets from the same variable.
      expect(clickhouse[variable]).toBe(fromEnvFile(variable));
      expect(envExample).toMatch(new RegExp(`^${variable}=`, 'm'));
    }
    expect(services.query.environment).toMatchObject({
      CLICKHOUSE_READER_USER: 'tally_reader',
      CLICKHOUSE_READER_PASSWORD: fromEnvFile('TALLY_CLICKHOUSE_READER_PASSWORD'),
    });
    expect(services.gateway.environment.CLICKHOUSE_PASSWORD).toBeUndefined();
    const init = readFileSync(path.join(root, 'tools/infra/clickhouse/docker-init/tally-users.sh'), 'utf8');
    for (const user of ['tally_writer', 'tally_query', 'tally_billing', 'tally_reader']) expect(init).toContain(`CREATE USER IF NOT EXISTS ${user}`);
    expect(init).toMatch(/readonly = 2/);
    expect(init).toMatch(/GRANT SELECT ON tally\.\* TO tally_reader/);
    expect(envExample).toMatch(/^TALLY_CLICKHOUSE_PASSWORD=/m);
  });

  it('`tally nats ingest-user <tenant>` prints a users entry with a fresh password and the permissions of that tenant only', async () => {
    const one = await runTally(['nats', 'ingest-user', 'acme'], { env: {}, ...noConnection });
    const two = await runTally(['nats', 'ingest-user', 'acme'], { env: {}, ...noConnection });
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('{ user: "ingest-acme", password: "');
    expect(one.stdout).toContain('publish: { allow: ["tally.ingest.acme", "tally.points.acme.*"] }');
    expect(one.stdout).toContain('subscribe: { allow: ["_INBOX_acme.>"] }');
    const password = (out: string) => /password: "([^"]+)"/.exec(out)?.[1];
    expect(password(one.stdout)).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(password(one.stdout)).not.toBe(password(two.stdout));
    expect((await runTally(['nats', 'ingest-user', 'Not.A.Tenant'], { env: {}, ...noConnection })).code).toBe(2);
  });

  it('the gateway answers only onto inboxes', () => {
    for (const ok of ['_INBOX.abc', '_INBOX.abc.1', `${ingestInboxPrefix('acme')}.x`]) expect(isInboxSubject(ok)).toBe(true);
    for (const no of [undefined, '', 'tally.events.acme', '_INBOX', '_INBOX.', '_INBOXtally.events', '_INBOX_.x', 'x._INBOX.y']) {
      expect(isInboxSubject(no)).toBe(false);
    }
  });
});
