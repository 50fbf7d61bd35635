import { BacklogGate } from './backlog-gate';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('BacklogGate', () => {
  it('lets requests through while the backlog is bounded and holds them until the store catches up', async () => {
    let accepted = 0;
    let stored = 0;
    const gate = new BacklogGate(() => accepted, async () => stored, 100, 5);
    await gate.start();
    accepted = 100;
    await gate.wait(); // exactly at the bound: goes
    accepted = 250;
    let released = false;
    const held = gate.wait().then(() => (released = true));
    await tick(20);
    expect(released).toBe(false);
    stored = 200; // backlog 50
    await held;
    expect(released).toBe(true);
    expect(gate.holds).toBe(1);
    await gate.stop();
  });

  it('releases everything it holds when stopped', async () => {
    const gate = new BacklogGate(() => 1_000, async () => 0, 10, 5);
    await gate.start();
    const held = Promise.all([gate.wait(), gate.wait()]);
    await gate.stop();
    await expect(held).resolves.toEqual([undefined, undefined]);
    await gate.wait(); // a stopped gate never holds
  });
});
