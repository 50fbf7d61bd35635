/**
 * Holds a closed-loop load back while too many accepted events are not stored yet. Without it the
 * gateway, driven flat out, takes CPU the writer and ClickHouse need on a small machine: it accepts
 * faster than the pipeline stores, the backlog grows for as long as the phase lasts, and neither
 * rate is a sustainable one. With it, the load runs as fast as the slowest stage and the backlog
 * stays bounded: what is measured is sustained end to end.
 */
export class BacklogGate {
  private storedCount = 0;
  private waiters: (() => void)[] = [];
  private running = false;
  private polling?: Promise<void>;
  private wake?: () => void;
  /** Times the gate made a request wait. */
  holds = 0;

  constructor(
    /** Events accepted so far (synchronous: a counter of the load generator). */
    private readonly accepted: () => number,
    /** Events stored so far (a query). */
    private readonly stored: () => Promise<number>,
    readonly maxBacklog: number,
    private readonly pollMs = 200,
  ) {}

  get backlog(): number {
    return this.accepted() - this.storedCount;
  }

  async start(): Promise<void> {
    this.storedCount = await this.stored();
    this.running = true;
    this.polling = this.poll();
  }

  /** Resolves at once while the backlog is within bounds, else once the pipeline caught up. */
  readonly wait = (): Promise<void> => {
    if (!this.running || this.backlog <= this.maxBacklog) return Promise.resolve();
    this.holds++;
    return new Promise((resolve) => this.waiters.push(resolve));
  };

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.release();
    await this.polling;
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        this.storedCount = await this.stored();
      } catch {
        // a failed count leaves the last one; the next poll tries again
      }
      if (this.backlog <= this.maxBacklog) this.release();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
