import { ProbeTracker } from './probes';

describe('ProbeTracker', () => {
  it('times each accepted probe until a poll sees it, and counts the ones never seen', async () => {
    const visible = new Set<string>();
    const tracker = new ProbeTracker(async (ids) => ids.filter((id) => visible.has(id)), 5);
    const a = tracker.newId();
    const b = tracker.newId();
    const lost = tracker.newId();
    expect(new Set([a, b, lost]).size).toBe(3);
    tracker.start();
    const sentAt = performance.now();
    tracker.accepted(a, sentAt);
    tracker.accepted(b, sentAt);
    tracker.accepted(lost, sentAt);
    visible.add(a);
    await new Promise((resolve) => setTimeout(resolve, 40));
    visible.add(b);
    const summary = await tracker.stop(100);
    expect(summary.count).toBe(2);
    expect(summary.unresolved).toBe(1);
    expect(summary.maxMs).toBeGreaterThanOrEqual(40);
    expect(summary.p50Ms).toBeLessThan(summary.maxMs);
  });
});
