import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort, waitFor, workspaceRoot } from '@tally/testing';

/** The Temporal CLI that tools/infra/infra.sh installs (PATH, else ~/go/bin). */
function temporalBinary(): string {
  const local = path.join(homedir(), 'go/bin/temporal');
  return existsSync(local) ? local : 'temporal';
}

/**
 * A Temporal dev server of one test's own (random ports, its own SQLite file under .data/), for tests
 * that stop and restart Temporal: the shared server on 7233 is never touched. State survives a restart.
 */
export class TemporalDevServer {
  private child?: ChildProcess;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly uiPort: number,
    private readonly dbFile: string,
  ) {}

  static async start(): Promise<TemporalDevServer> {
    const dir = path.join(workspaceRoot, '.data', 'test-temporal');
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const server = new TemporalDevServer(port, await freePort(), path.join(dir, `${port}-${Date.now()}.db`));
    await server.resume();
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    const attributes = ['TallyTenant', 'TallyCustomer', 'TallyPeriod', 'TallyKind'].flatMap((a) => ['--search-attribute', `${a}=Keyword`]);
    const child = spawn(
      temporalBinary(),
      ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(this.port), '--ui-port', String(this.uiPort),
        '--db-filename', this.dbFile, '--log-level', 'error', ...attributes],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`temporal exited:\n${this.output}`);
        const connection = await Connection.connect({ address: this.address, connectTimeout: 1_000 }).catch(() => undefined);
        if (!connection) return false;
        const ok = await connection.healthService.check({}).then(() => true, () => false);
        await connection.close();
        return ok;
      },
      { timeoutMs: 60_000, what: `temporal dev server on ${this.address}` },
    );
  }

  /** Stops the server (SIGKILL: as if the machine went away). */
  async pause(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.pause();
  }
}
