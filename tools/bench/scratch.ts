import { IngestionHarness } from '../../apps/gateway/test/ingestion-harness';
import { BatchFactory, HttpLoad } from '../loadgen';
async function main() {
  const h = new IngestionHarness({ writerEnv: { WRITER_FLUSH_INTERVAL_MS: '1000' }, gatewayEnv: { NODE_OPTIONS: process.env.GW_OPTS ?? '' } });
  await h.start();
  const { ingestKey } = await h.tenant('bench', { rateLimitPerSecond: 10_000_000 });
  const f = new BatchFactory({});
  const load = new HttpLoad({ url: h.gatewayUrl, apiKey: ingestKey, connections: Number(process.env.C ?? 8), pipelining: Number(process.env.P ?? 1) }, f);
  const r = await load.closedLoop({ durationMs: Number(process.env.D ?? 10) * 1000 });
  console.log(JSON.stringify(r));
  const t0 = Date.now();
  await h.waitForEvents('bench', r.eventsAccepted, 120_000).catch((e) => console.log(String(e)));
  console.log('drain ms', Date.now() - t0, await h.total('bench'));
  await load.close();
  await h.stop();
}
main().catch((e) => { console.error(e); process.exit(1); });
