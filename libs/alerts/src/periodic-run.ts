/**
 * An evaluation repeated every `intervalMs` after the previous one ended (never overlapping, so a slow
 * run delays the next rather than stacking), and callable on demand: a call during a run waits for that
 * run. The timer does not keep the process alive. `intervalMs <= 0` never schedules (tests drive it).
 */
export class PeriodicRun<R> {
  private timer?: ReturnType<typeof setTimeout>;
  private running?: Promise<R>;
  private stopped = false;

  constructor(
    private readonly evaluate: () => Promise<R>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops scheduling and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  runOnce(): Promise<R> {
    this.running ??= this.evaluate().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped || this.intervalMs <= 0) return;
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch(this.onError)
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }
}
