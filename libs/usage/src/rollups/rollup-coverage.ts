import { type ClickHouse, ROLLUP_TABLES, type RollupTable, rollupCoverage, rollupTables } from '@tally/clickhouse';
import type { Logger } from '@tally/observability';

/**
 * Which months each roll-up table covers completely. A materialized view only sees rows inserted after
 * it was created, and does not follow deletes or dropped partitions, so a month is trusted only while
 * the number of events in `events` equals the number the roll-up merged for it; anything else is
 * answered by scanning `events` (correct, only slower). A month whose counts agree stays covered
 * through one disagreeing check: an INSERT writes `events` first and the roll-ups a moment later, and
 * a check can fall in between. A month without any rows at the last check is covered: its first
 * events arrive through the views. A roll-up table that does not exist (a database migrated before
 * it was added) covers nothing.
 */
export class RollupCoverage {
  private covered = new Map<RollupTable, Set<number>>();
  private suspect = new Map<RollupTable, Set<number>>();
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

  /** Whether every one of `months` (YYYYMM) is fully in every one of `tables`. */
  covers(months: readonly number[], tables: readonly RollupTable[] = ['usage_hourly']): boolean {
    // Until one check succeeded (e.g. the roll-up tables are not migrated yet) nothing is trusted.
    if (!this.checked) return false;
    return tables.every((t) => {
      const covered = this.covered.get(t);
      return covered !== undefined && months.every((m) => covered.has(m) || !this.known.has(m));
    });
  }

  /** Compares the tables now. Failures are logged; the previous answer stays in force. */
  refresh(): Promise<void> {
    this.running ??= this.check().finally(() => (this.running = undefined));
    return this.running;
  }

  private async check(): Promise<void> {
    const database = this.clickhouse.database;
    let rows: Array<{ month: string; source: string; n: string }>;
    let present: RollupTable[];
    try {
      const tables = await this.clickhouse.query<{ name: string; engine: string }>(rollupTables(database), {
        operation: 'check roll-up coverage',
      });
      const events = tables.find((t) => t.name === 'events');
      present = ROLLUP_TABLES.filter((name) => tables.some((t) => t.name === name));
      rows = await this.clickhouse.query(
        rollupCoverage(database, events?.engine.endsWith('MergeTree') ? 'parts' : 'scan', present),
        { operation: 'check roll-up coverage', exactNumbers: true },
      );
    } catch (error) {
      this.logger.warn({ err: error }, 'roll-up coverage check failed; keeping the previous answer');
      return;
    }
    const counts = new Map<string, Map<number, string>>();
    const known = new Set<number>();
    for (const row of rows) {
      const month = Number(row.month);
      known.add(month);
      if (!counts.has(row.source)) counts.set(row.source, new Map());
      counts.get(row.source)?.set(month, row.n);
    }
    const events = counts.get('events') ?? new Map<number, string>();
    const covered = new Map<RollupTable, Set<number>>();
    const suspect = new Map<RollupTable, Set<number>>();
    for (const table of present) {
      const rolled = counts.get(table) ?? new Map<number, string>();
      const before = this.covered.get(table);
      const wasSuspect = this.suspect.get(table);
      const ok = new Set<number>();
      const doubtful = new Set<number>();
      for (const month of known) {
        if ((events.get(month) ?? '0') === (rolled.get(month) ?? '0')) ok.add(month);
        else if (before?.has(month) && !wasSuspect?.has(month)) {
          ok.add(month);
          doubtful.add(month);
        }
      }
      const newlyUncovered = [...known].filter((m) => !ok.has(m) && (before?.has(m) || !this.known.has(m)));
      if (newlyUncovered.length) {
        this.logger.warn(
          { table, months: newlyUncovered },
          'roll-up does not match events for these months; answering them from events (docs/usage-api.md, backfill)',
        );
      }
      covered.set(table, ok);
      suspect.set(table, doubtful);
    }
    this.covered = covered;
    this.suspect = suspect;
    this.known = known;
    this.checked = true;
  }

  private schedule(): void {
    if (this.stopped || this.intervalMs <= 0) return;
    // A month in doubt (counts apart while an insert was under way) is looked at again soon; one that
    // was never covered (waiting for a backfill) at the normal pace.
    const doubtful = [...this.suspect.values()].some((months) => months.size > 0);
    const delay = doubtful ? Math.min(this.intervalMs, 5_000) : this.intervalMs;
    this.timer = setTimeout(() => {
      void this.refresh().then(() => this.schedule());
    }, delay);
    this.timer.unref();
  }
}
