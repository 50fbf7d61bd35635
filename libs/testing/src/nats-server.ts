import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import path from 'node:path';

/** The NATS Server version Tally runs and tests on; tools/infra/infra.sh builds the same one. */
export const TALLY_NATS_SERVER_VERSION = '2.15.3';

/** The version a nats-server binary reports (`nats-server: v2.15.3` → `2.15.3`), undefined if it does not run. */
export function natsServerVersion(bin: string): string | undefined {
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 });
    return /nats-server: v?(\d[\d.]*)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

let found: string | undefined;

/**
 * The nats-server binary for tests that start a server of their own: TALLY_NATS_SERVER_BIN if set,
 * else the first one of Tally's version in Go's bin directories (where infra.sh builds it), then
 * PATH. Never a distribution's older server that happens to be first in PATH.
 */
export function testNatsServerBin(): string {
  if (process.env.TALLY_NATS_SERVER_BIN) return process.env.TALLY_NATS_SERVER_BIN;
  if (found) return found;
  const candidates = [
    process.env.GOBIN && path.join(process.env.GOBIN, 'nats-server'),
    process.env.GOPATH && path.join(process.env.GOPATH.split(':')[0], 'bin', 'nats-server'),
    path.join(homedir(), 'go', 'bin', 'nats-server'),
    'nats-server',
  ].filter((c): c is string => !!c);
  found = candidates.find((c) => natsServerVersion(c) === TALLY_NATS_SERVER_VERSION);
  if (!found) {
    throw new Error(
      `no nats-server ${TALLY_NATS_SERVER_VERSION} found (${candidates.join(', ')}); run \`bash tools/infra/infra.sh up\`, which builds it`,
    );
  }
  return found;
}
