import { PeriodicRun } from './periodic-run';

describe('PeriodicRun', () => {
  it('never overlaps: a call during a run waits for that run', async () => {
    let runs = 0;
    let release!: () => void;
    const run = new PeriodicRun(
      () => new Promise<number>((resolve) => (release = () => resolve(++runs))),
      0,
      () => undefined,
    );
    const first = run.runOnce();
    const second = run.runOnce();
    release();
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    const third = run.runOnce();
    release();
    expect(await third).toBe(2);
  });

  it('repeats every interval after the previous run ended, reports failures, and stops', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const run = new PeriodicRun(
      async () => {
        runs++;
        if (runs === 2) throw new Error('unreachable');
        return runs;
      },
      10,
      (error) => errors.push(error),
    );
    run.start();
    await new Promise((r) => setTimeout(r, 200));
    await run.stop();
    const seen = runs;
    expect(seen).toBeGreaterThanOrEqual(3);
    expect(errors).toEqual([new Error('unreachable')]);
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toBe(seen);
  });

  it('with an interval of 0, runs only when asked', async () => {
    let runs = 0;
    const run = new PeriodicRun(
      async () => ++runs,
      0,
      () => undefined,
    );
    run.start();
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(0);
    expect(await run.runOnce()).toBe(1);
  });
});
