import { summarizeProfile, type CpuProfile } from './cpu-profile';

const ROOT = '/work/repo';
const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

// root → (idle); root → handler (libs/ingest) → JSON.parse-ish native; root → (garbage collector)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 5] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('publish', `file://${ROOT}/libs/ingest/src/gateway/event-publisher.ts`, 40), children: [4] },
    { id: 4, callFrame: frame('write', `file://${ROOT}/node_modules/@nats-io/nats-core/lib/protocol.js`, 9) },
    { id: 5, callFrame: frame('(garbage collector)') },
  ],
  startTime: 0,
  endTime: 10_000,
  // timeDeltas[i] is the gap before sample i: each sample lasts until the next one.
  samples: [2, 3, 4, 4, 5, 2],
  timeDeltas: [0, 4_000, 1_000, 2_000, 1_000, 1_000],
};

describe('summarizeProfile', () => {
  it('attributes self time to the sampled leaf, leaves idle out, and groups by where the code lives', () => {
    const s = summarizeProfile(profile, 10, ROOT);
    expect(s).toMatchObject({ wallMs: 10, busyMs: 5, busyShare: 0.5 });
    expect(s.topFunctions).toEqual([
      { function: 'write', location: '@nats-io/nats-core/lib/protocol.js:10', selfMs: 3, selfPct: 60 },
      { function: 'publish', location: 'libs/ingest/src/gateway/event-publisher.ts:41', selfMs: 1, selfPct: 20 },
      { function: '(garbage collector)', location: '', selfMs: 1, selfPct: 20 },
    ]);
    expect(s.byArea).toEqual([
      { area: '@nats-io/nats-core', selfMs: 3, selfPct: 60 },
      { area: 'libs/ingest', selfMs: 1, selfPct: 20 },
      { area: '(garbage collector)', selfMs: 1, selfPct: 20 },
    ]);
  });
});
