import { readFileSync } from 'node:fs';
import path from 'node:path';
import { natsServerVersion, TALLY_NATS_SERVER_VERSION } from './nats-server';
import { workspaceRoot } from './processes';

describe('the NATS Server version', () => {
  it('is the one tools/infra/infra.sh builds and docker-compose.yml runs', () => {
    const infra = readFileSync(path.join(workspaceRoot, 'tools/infra/infra.sh'), 'utf8');
    expect(/^NATS_SERVER_VERSION=v(\S+)/m.exec(infra)?.[1]).toBe(TALLY_NATS_SERVER_VERSION);
    const compose = readFileSync(path.join(workspaceRoot, 'docker-compose.yml'), 'utf8');
    expect(/image: nats:(\S+)/.exec(compose)?.[1]).toBe(TALLY_NATS_SERVER_VERSION);
  });

  it('is read from the binary, and a binary that does not run has none', () => {
    expect(natsServerVersion(path.join(workspaceRoot, 'no-such-nats-server'))).toBeUndefined();
  });
});
