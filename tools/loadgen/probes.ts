import { randomBytes } from 'node:crypto';
import { LatencyRecorder, type LatencySummary } from './latency';

/** Answers which of these probe ids are visible (queryable) in the store right now. */
export type VisibilityCheck = (ids: string[]) => Promise<Iterable<string>>;

export interface ProbeSummary extends LatencySummary {
  /** Probes accepted (202) but still not visible when the tracker stopped. */
  unresolved: number;
  pollMs: number;
}

/**
 * Receipt-to-queryable latency, measured from the outside: a probe event rides in an ordinary
 * batch, its clock starts when the request is sent (a hair before the gateway's receipt) and stops
 * when a query first sees its row. Each sample is therefore an upper bound, late by at most one
 * polling interval plus one query.
 */
export class ProbeTracker {
  private readonly pending = new Map<string, number>();
  private readonly latency = new LatencyRecorder();
  private readonly run = randomBytes(4).toString('hex');
  private seq = 0;
  private polling?: Promise<void>;
  private running = false;
  private pollErrors = 0;

  constructor(
    private readonly isVisible: VisibilityCheck,
    readonly pollMs = 50,
  ) {}

  /** A fresh idempotency key for a probe event. */
  newId(): string {
    return `probe-${this.run}-${++this.seq}`;
  }

  /** The request carrying probe `id` was sent at `sentAt` (performance.now()) and answered 202. */
  accepted(id: string, sentAt: number): void {
    this.pending.set(id, sentAt);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.polling = this.poll();
  }

  /** Waits (at most `timeoutMs`) for the probes still pending, then stops polling. */
  async stop(timeoutMs = 30_000): Promise<ProbeSummary> {
    const deadline = performance.now() + timeoutMs;
    while (this.pending.size > 0 && performance.now() < deadline) await sleep(this.pollMs);
    this.running = false;
    await this.polling;
    return { ...this.latency.summary(), unresolved: this.pending.size, pollMs: this.pollMs };
  }

  get errors(): number {
    return this.pollErrors;
  }

  private async poll(): Promise<void> {
    while (this.running) {
      if (this.pending.size > 0) {
        try {
          const visible = await this.isVisible([...this.pending.keys()]);
          const seenAt = performance.now();
          for (const id of visible) {
            const sentAt = this.pending.get(id);
            if (sentAt === undefined) continue;
            this.latency.record(seenAt - sentAt);
            this.pending.delete(id);
          }
        } catch {
          this.pollErrors++;
        }
      }
      await sleep(this.pollMs);
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
