/**
 * `npm start` stops everything it started when its npm process gets SIGTERM (as from a process
 * supervisor), although npm's `sh -c` does not pass the signal on. The infrastructure is already up
 * (shared with other tests), so start.sh leaves it alone; everything else here is this test's own:
 * data dir, ports, NATS prefix, database, task queue, tenant.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectNats, deleteStreams, natsNames } from '@tally/nats';
import { freePort, randomPrefix, testNatsUrl, testStreamEnv, waitFor, workspaceRoot, testNatsAuth } from '@tally/testing';

/** Processes whose environment carries this test's NATS prefix: everything `npm start` ran. */
function processesOf(id: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (environ.includes(`TALLY_NATS_PREFIX=${id}`)) {
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

describe('npm start', () => {
  it('stops every process it started when its npm process gets SIGTERM', async () => {
    const id = randomPrefix('start');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tally-start-'));
    const env: Record<string, string> = {
      ...testStreamEnv,
      TALLY_DATA_DIR: dataDir,
      TALLY_NATS_PREFIX: id,
      CLICKHOUSE_DATABASE: id,
      TALLY_TASK_QUEUE: id,
      TALLY_DEMO_TENANT: id.replace('_', '-'),
      BILLING_SCHEDULES: 'false',
      LOG_LEVEL: 'warn',
    };
    for (const p of [
      'GATEWAY_PORT',
      'QUERY_PORT',
      'WRITER_PORT',
      'GATEWAY_INTERNAL_PORT',
      'QUERY_INTERNAL_PORT',
      'WRITER_INTERNAL_PORT',
      'BILLING_WORKER_INTERNAL_PORT',
    ])
      env[p] = String(await freePort());
    // Its own process group, as a supervisor starts it: the signal reaches npm alone, not its children.
    const npm = spawn('npm', ['start'], {
      cwd: workspaceRoot,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout.on('data', (d: Buffer) => (output += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => npm.on('exit', resolve));
    try {
      // Stop it while the demo runs: services, the demo and start.sh itself are all up then.
      await waitFor(async () => output.includes('[demo] tenant'), {
        timeoutMs: 150_000,
        intervalMs: 200,
        what: `the demo to start\n${output}`,
      });
      const running = processesOf(id);
      expect(running.filter((p) => p.includes('dist/apps/')).length).toBe(4);
      expect(running.some((p) => p.includes('tools/demo/demo.ts'))).toBe(true);
      expect(running.some((p) => p.includes('tools/start.sh'))).toBe(true);

      process.kill(npm.pid as number, 'SIGTERM');
      await exited;
      const left = await waitFor(async () => (processesOf(id).length === 0 ? [] : undefined), {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: `every process to stop: ${processesOf(id).join('\n')}\n${output}`,
      });
      expect(left).toEqual([]);
      expect(output).toContain('[start] stopped');
      expect(existsSync(path.join(dataDir, 'run/start.pid'))).toBe(false);
    } catch (error) {
      throw new Error(`${String(error)}\n--- npm start output ---\n${output}`);
    } finally {
      for (const p of processesOf(id)) process.kill(Number(p.split(' ')[0]), 'SIGKILL');
      const nc = await connectNats(testNatsUrl(), 'start.int-spec', testNatsAuth());
      await deleteStreams(nc, natsNames(id));
      await nc.close();
    }
  }, 200_000);
});
