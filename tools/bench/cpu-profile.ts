import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTimeEntry {
  function: string;
  /** `file:line` relative to the workspace, or a package name. */
  location: string;
  selfMs: number;
  /** Share of the busy (non-idle) time. */
  selfPct: number;
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  /** Sampled time not spent idle: ~ CPU time of the main thread. */
  busyMs: number;
  /** busyMs / wallMs: how much of one core the event loop used. */
  busyShare: number;
  topFunctions: SelfTimeEntry[];
  /** Self time grouped by where the code lives: a package, a Tally lib, Node internals, GC. */
  byArea: { area: string; selfMs: number; selfPct: number }[];
}

const IDLE = new Set(['(idle)', '(program)']);

/**
 * Self time per function of a V8 `.cpuprofile` (the samples' time deltas attributed to the leaf
 * frame), the view that answers "where does this process burn its CPU".
 */
export function summarizeCpuProfile(file: string, top = 15, root = process.cwd()): ProfileSummary {
  return { file, ...summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top, root) };
}

export function summarizeProfile(profile: CpuProfile, top = 15, root = process.cwd()): Omit<ProfileSummary, 'file'> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time *before* sample i; the next delta is how long sample i lasted.
    const duration = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + duration);
  }
  const byFunction = new Map<string, { fn: string; location: string; us: number }>();
  const byArea = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const fn = frame.functionName || '(anonymous)';
    if (IDLE.has(fn)) continue;
    busyUs += us;
    const location = frame.url ? `${shortUrl(frame.url, root)}:${frame.lineNumber + 1}` : '';
    const key = `${fn}@${location}`;
    const entry = byFunction.get(key) ?? { fn, location, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const area = areaOf(fn, frame.url, root);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const wallUs = profile.endTime - profile.startTime;
  const pct = (us: number) => Math.round((us / Math.max(1, busyUs)) * 1000) / 10;
  return {
    wallMs: Math.round(wallUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    busyShare: Math.round((busyUs / Math.max(1, wallUs)) * 100) / 100,
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ function: e.fn, location: e.location, selfMs: Math.round(e.us / 1000), selfPct: pct(e.us) })),
    byArea: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, selfMs: Math.round(us / 1000), selfPct: pct(us) })),
  };
}

function shortUrl(url: string, root: string): string {
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm !== -1) return file.slice(nm + '/node_modules/'.length);
  return file.startsWith(root) ? path.relative(root, file) : file;
}

/** `(garbage collector)`, `node:internal`, a package (`undici`, `@nats-io/nats-core`) or a Tally folder. */
function areaOf(fn: string, url: string, root: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  if (file.startsWith('node:')) return 'node:internal';
  const nm = file.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const rel = file.startsWith(root) ? path.relative(root, file) : file;
  const parts = rel.split('/');
  return parts.length >= 2 ? `${parts[0]}/${parts[1]}` : rel;
}
