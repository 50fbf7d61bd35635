import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { testNatsEnv, testStreamEnv, waitFor } from './env';

export const workspaceRoot = path.resolve(__dirname, '../../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const running = new Set<ChildProcess>();
// A test runner that exits (or is killed by a timeout) must not leave services behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

let compiled = false;

/**
 * Brings dist/ up to date with the sources (tools/build/compile.js, incremental: a fraction of a
 * second when nothing changed), once per test process, so a service never runs stale code.
 */
export function compileServices(): void {
  if (compiled) return;
  execFileSync(process.execPath, [path.join(workspaceRoot, 'tools/build/compile.js'), '--test-faults'], {
    cwd: workspaceRoot,
    stdio: 'pipe',
  });
  compiled = true;
}

/**
 * The app's test-only fault-injection modules (`apps/<app>/test/faults/*.ts`, compiled by
 * `compileServices`), as `node -r` arguments. Each acts only when its environment variable is set
 * (e.g. `WRITER_TEST_CRASH_AFTER_INSERT`), so a service started without one runs exactly as in production.
 */
function faultPreloads(app: string): string[] {
  const dir = path.join(workspaceRoot, 'dist/apps', app, 'test/faults');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.js'))
    .flatMap((name) => ['-r', path.join(dir, name)]);
}

/** `<APP>_INTERNAL_PORT`: the app's internal listener (`/metrics`, detailed `/health`). */
export const internalPortEnv = (app: string): string =>
  `${app.toUpperCase().replace(/-/g, '_')}_INTERNAL_PORT`;

/**
 * Starts one of Tally's apps as a real child process, compiled (`dist/apps/<name>/src/main.js`) as
 * production runs it, plus its test-only fault modules (see `faultPreloads`). Its internal listener
 * takes any free port (0) unless `env` names one: tests run side by side, and a test that reads
 * `/metrics` or the detailed `/health` picks a `freePort()` and passes it as `<APP>_INTERNAL_PORT`.
 */
export function startService(app: string, env: Record<string, string>): ServiceProcess {
  compileServices();
  const child = spawn(process.execPath, [...faultPreloads(app), `dist/apps/${app}/src/main.js`], {
    cwd: workspaceRoot,
    env: { ...process.env, ...testStreamEnv, ...testNatsEnv(), [internalPortEnv(app)]: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  running.add(child);
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Waits until a started service answers `GET <url>/health` with a 2xx. Fails at once when the process
 * exits first, and on timeout; either way the error carries the service's output.
 */
export async function waitUntilHealthy(
  service: ServiceProcess,
  url: string,
  { timeoutMs = 90_000, what = `${url}/health` }: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  await waitFor(
    async () => {
      if (service.child.exitCode !== null) throw new Error(`${what}: the process exited early`);
      return (await fetch(`${url}/health`).catch(() => undefined))?.ok;
    },
    { timeoutMs, what },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- service output ---\n${service.output()}`);
  });
}
