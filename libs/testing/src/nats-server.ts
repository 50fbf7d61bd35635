import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './processes';

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

/** A nats-server of the test's own (its own port, store and configuration), see `startNatsServer`. */
export interface OwnNatsServer {
  url: string;
  port: number;
  /** What the server printed so far (its log goes to stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a nats-server of Tally's version on a free loopback port with JetStream in a temporary
 * store and `config` (nats-server configuration text, e.g. an `authorization { ... }` block) added
 * to it. For tests that need a server configured differently from the shared one (permissions,
 * accounts): never reload the shared server with a test's configuration.
 */
export async function startNatsServer(config = '', { readyTimeoutMs = 20_000 } = {}): Promise<OwnNatsServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'tally-nats-'));
  const file = path.join(dir, 'server.conf');
  writeFileSync(
    file,
    `listen: "127.0.0.1:${port}"\njetstream { store_dir: ${JSON.stringify(path.join(dir, 'store'))}, max_file_store: 1GB }\n${config}\n`,
  );
  const child = spawn(testNatsServerBin(), ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (!out.includes('Server is ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nats-server did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `nats://127.0.0.1:${port}`, port, output: () => out, stop };
}
