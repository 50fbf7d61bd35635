import type { ClickHouse } from '@tally/clickhouse';
import type { Logger } from '@tally/observability';
import { rollupCoverage } from './rollup-sql';

/**
 * Which months the roll-up covers completely. The materialized view only sees rows inserted after
 * it was created, and it does not follow deletes or dropped partitions, so a month is trusted only
 * while the number of events in `events` equals the number the roll-up merged for it; any other month
 * is answered by scanning `events` (correct, only slower). A month whose counts agree stays covered
 * through one disagreeing check: an INSERT writes `events` first and the roll-up a moment later, and
 * a check can fall in between. A month without any rows at the last check is covered: its first
 * events arrive through the view.
 */
export class RollupCoverage {
  private covered = new Set<number>();
  private suspect = new Set<number>();
  private known = new Set<number>();
  private checked = false;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly clickhouse: ClickHouse,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  /** Runs a first check, then one every `intervalMs` (sooner while some month disagrees). */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Whether every one of `months` (YYYYMM) is fully in the roll-up. */
  covers(months: readonly number[]): boolean {
    // Until one check succeeded (e.g. the roll-up table is not migrated yet) nothing is trusted.
    return this.checked && months.every((m) => this.covered.has(m) || !this.known.has(m));
  }

  /** Compares both tables now. Failures are logged; the previous answer stays in force. */
  refresh(): Promise<void> {
    this.running ??= this.check().finally(() => (this.running = undefined));
    return this.running;
  }

  private async check(): Promise<void> {
    let rows: Array<{ month: number; raw: string; rolled: string }>;
    try {
      rows = await this.clickhouse.query(rollupCoverage(this.clickhouse.database), {
        operation: 'check roll-up coverage',
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'roll-up coverage check failed; keeping the previous answer');
      return;
    }
    const covered = new Set<number>();
    const suspect = new Set<number>();
    const known = new Set<number>();
    for (const row of rows) {
      const month = Number(row.month);
      known.add(month);
      if (row.raw === row.rolled) {
        covered.add(month);
      } else if (this.covered.has(month) && !this.suspect.has(month)) {
        covered.add(month);
        suspect.add(month);
      }
    }
    const uncovered = [...known].filter((m) => !covered.has(m));
    const newlyUncovered = uncovered.filter((m) => this.covered.has(m) || !this.known.has(m));
    if (newlyUncovered.length) {
      this.logger.warn(
        { months: newlyUncovered },
        'roll-up does not match events for these months; answering them from events (see docs/usage-api.md, backfill)',
      );
    }
    this.covered = covered;
    this.suspect = suspect;
    this.known = known;
    this.checked = true;
  }

  private schedule(): void {
    if (this.stopped || this.intervalMs <= 0) return;
    const disagreeing = this.suspect.size > 0 || [...this.known].some((m) => !this.covered.has(m));
    const delay = disagreeing ? Math.min(this.intervalMs, 5_000) : this.intervalMs;
    this.timer = setTimeout(() => {
      void this.refresh().then(() => this.schedule());
    }, delay);
    this.timer.unref();
  }
}
