import { readFileSync, mkdirSync } from 'node:fs';
import { IngestionHarness } from '../../apps/gateway/test/ingestion-harness';
import { BatchFactory, HttpLoad } from '../loadgen';
import { summarizeCpuProfile } from './cpu-profile';
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
async function main() {
  const prof = process.env.PROF;
  const popts = prof ? { NODE_OPTIONS: `--require @swc-node/register --require ${process.cwd()}/tools/bench/cpu-profile-preload.ts`, TALLY_CPU_PROFILE_DIR: prof } : {};
  if (prof) mkdirSync(prof, { recursive: true });
  const h = new IngestionHarness({ writerEnv: { WRITER_FLUSH_INTERVAL_MS: '1000', ...popts }, gatewayEnv: { ...popts } });
  await h.start();
  const { ingestKey } = await h.tenant('bench', { rateLimitPerSecond: 10_000_000 });
  const f = new BatchFactory({});
  const load = new HttpLoad({ url: h.gatewayUrl, apiKey: ingestKey, connections: Number(process.env.C ?? 8), pipelining: Number(process.env.P ?? 1) }, f);
  const gp = h.gateway.child.pid!, wp = h.writer!.child.pid!;
  await load.closedLoop({ durationMs: 2000 });
  if (prof) { process.kill(gp, 'SIGWINCH'); process.kill(wp, 'SIGWINCH'); }
  await new Promise((r) => setTimeout(r, 300)); if (h.gateway.child.exitCode !== null || h.gateway.child.signalCode) console.log("GW DIED", h.gateway.child.signalCode, h.gateway.output().slice(-2000)); if (h.writer!.child.exitCode !== null || h.writer!.child.signalCode) console.log("W DIED", h.writer!.child.signalCode, h.writer!.output().slice(-2000));
  const c0 = [cpu(gp), cpu(wp)]; const u0 = process.cpuUsage();
  const r = await load.closedLoop({ durationMs: Number(process.env.D ?? 10) * 1000 });
  const c1 = [cpu(gp), cpu(wp)]; const u1 = process.cpuUsage(u0);
  if (prof) { process.kill(gp, 'SIGWINCH'); process.kill(wp, 'SIGWINCH'); }
  console.log(JSON.stringify(r));
  const s = r.durationMs / 1000;
  console.log('cpu cores: gateway', ((c1[0] - c0[0]) / s).toFixed(2), 'writer', ((c1[1] - c0[1]) / s).toFixed(2), 'loadgen', ((u1.user + u1.system) / 1e6 / s).toFixed(2));
  const t0 = Date.now();
  await h.waitForEvents('bench', r.eventsAccepted + 2000, 120_000).catch((e) => console.log(String(e)));
  console.log('drain ms', Date.now() - t0, await h.total('bench'));
  await load.close();
  await new Promise((r) => setTimeout(r, 1000));
  await h.stop();
  if (prof) {
    const { readdirSync } = await import('node:fs');
    for (const file of readdirSync(prof)) {
      const sum = summarizeCpuProfile(`${prof}/${file}`, 25);
      console.log(file, JSON.stringify({ busyShare: sum.busyShare, byArea: sum.byArea }, null, 0));
      for (const t of sum.topFunctions) console.log('   ', t.selfPct, t.function, t.location);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
