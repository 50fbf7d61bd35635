export interface StoredPoint {
  /** performance.now() of the sample */
  at: number;
  stored: number;
}

/**
 * The stored-event count sampled every `pollMs` over a phase. The count grows in steps of whole
 * inserts (tens of thousands of events), so a rate over an arbitrary window is off by up to one
 * step at each end; `steadyRate` measures from the first step to the last instead.
 */
export class StoredSeries {
  readonly points: StoredPoint[] = [];
  private running = false;
  private polling?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly count: () => Promise<number>,
    private readonly pollMs = 250,
  ) {}

  /** The last count read. */
  get latest(): number {
    return this.points.at(-1)?.stored ?? 0;
  }

  async start(): Promise<void> {
    await this.sample();
    this.running = true;
    this.polling = this.poll();
  }

  /** Stops polling and takes a last sample. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.polling;
    await this.sample();
  }

  private async sample(): Promise<void> {
    const at = performance.now();
    const stored = await this.count();
    this.points.push({ at, stored });
  }

  private async poll(): Promise<void> {
    while (this.running) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (this.running) await this.sample().catch(() => undefined);
    }
  }
}

/** Events/s between the first and the last step of the count; NaN with fewer than two steps. */
export function steadyRate(points: readonly StoredPoint[]): number {
  let first = -1;
  let last = -1;
  for (let i = 1; i < points.length; i++) {
    if (points[i].stored > points[i - 1].stored) {
      if (first === -1) first = i;
      last = i;
    }
  }
  if (first === -1 || last === first) return NaN;
  return ((points[last].stored - points[first].stored) / (points[last].at - points[first].at)) * 1000;
}

/** Events/s in consecutive slices of `sliceMs` (the last, partial slice left out). */
export function ratesBySlice(points: readonly StoredPoint[], sliceMs: number): number[] {
  const rates: number[] = [];
  if (points.length < 2) return rates;
  let from = points[0];
  for (const p of points) {
    if (p.at - from.at >= sliceMs) {
      rates.push(Math.round(((p.stored - from.stored) / (p.at - from.at)) * 1000));
      from = p;
    }
  }
  return rates;
}
