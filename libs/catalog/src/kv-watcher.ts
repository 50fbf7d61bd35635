import { type KV, type KvWatchEntry, KvWatchInclude } from '@nats-io/kv';
import type { NatsConnection, NatsNames } from '@tally/nats';
import { openBucket } from './kv';

export interface KvWatcherOptions {
  /** Pause before re-establishing a watch that ended. Default 500 ms. */
  retryDelayMs?: number;
  /** Told about watch failures and values that could not be applied (the watch carries on). */
  onError?: (error: unknown) => void;
  /** When this says the connection is closed for good, the watcher stops instead of retrying. */
  connectionClosed?: () => boolean;
}

/**
 * Follows every key of a bucket: first the last value of each key (the snapshot), then every change
 * as it happens. `ready()` resolves once the snapshot has been handed to `onEntry`. If the watch ends
 * (server restart, consumer lost), it is re-established from the last revision seen, so an in-memory
 * copy built from `onEntry` never misses a change for long and never needs a restart of the service.
 */
export class KvWatcher {
  private stopped = false;
  private lastRevision = 0;
  private snapshotEnd?: number;
  private iterator?: { stop(): void };
  private readonly readyPromise: Promise<void>;
  private markReady!: () => void;
  private failReady!: (e: unknown) => void;
  private isReady = false;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly kv: KV,
    private readonly onEntry: (entry: KvWatchEntry) => void,
    private readonly options: KvWatcherOptions,
  ) {
    this.readyPromise = new Promise((resolve, reject) => {
      this.markReady = () => {
        this.isReady = true;
        resolve();
      };
      this.failReady = reject;
    });
    // Keep an unobserved failure of the first watch from becoming an unhandled rejection.
    this.readyPromise.catch(() => undefined);
    this.loop = this.run();
  }

  static start(kv: KV, onEntry: (entry: KvWatchEntry) => void, options: KvWatcherOptions = {}): KvWatcher {
    return new KvWatcher(kv, onEntry, options);
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  get revision(): number {
    return this.lastRevision;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.iterator?.stop();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped && !this.options.connectionClosed?.()) {
      try {
        await this.watchOnce();
      } catch (error) {
        this.options.onError?.(error);
        if (!this.isReady && this.lastRevision === 0) {
          // The very first watch failed (no bucket, no permission): report it to whoever awaits ready().
          this.failReady(error);
          return;
        }
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, this.options.retryDelayMs ?? 500));
    }
    if (!this.isReady) this.failReady(new Error('the KV watch stopped before the bucket was loaded'));
  }

  private async watchOnce(): Promise<void> {
    const resuming = this.lastRevision > 0;
    if (this.snapshotEnd === undefined) {
      // The stream's last sequence before the first watch: once an entry at or past it has been seen,
      // the snapshot is in (an empty bucket has nothing to wait for).
      const status = await this.kv.status();
      this.snapshotEnd = status.values === 0 ? 0 : status.streamInfo.state.last_seq;
    }
    const snapshotEnd = this.snapshotEnd;
    const iterator = await this.kv.watch(
      resuming
        ? { include: KvWatchInclude.AllHistory, resumeFromRevision: this.lastRevision + 1 }
        : { include: KvWatchInclude.LastValue },
    );
    this.iterator = iterator;
    if (this.stopped) iterator.stop();
    if (!this.isReady && (snapshotEnd === 0 || this.lastRevision >= snapshotEnd)) this.markReady();
    for await (const entry of iterator) {
      if (entry.revision <= this.lastRevision) continue;
      this.lastRevision = entry.revision;
      try {
        this.onEntry(entry);
      } catch (error) {
        // A bad value must not stop the watch: every later change still has to arrive.
        this.options.onError?.(error);
      }
      if (!this.isReady && (entry.revision >= snapshotEnd || (!resuming && entry.delta === 0)))
        this.markReady();
    }
  }
}

/**
 * Follows the catalog bucket (creating it if this service comes first) and resolves once its
 * current contents were applied: the start of every in-memory view of the catalog.
 */
export async function watchCatalog(
  nc: NatsConnection,
  names: NatsNames,
  apply: (entry: KvWatchEntry) => void,
  onError?: (error: unknown) => void,
): Promise<KvWatcher> {
  const kv = await openBucket(nc, names.catalogBucket);
  const watcher = KvWatcher.start(kv, apply, { onError, connectionClosed: () => nc.isClosed() });
  try {
    await watcher.ready();
  } catch (error) {
    await watcher.stop();
    throw error;
  }
  return watcher;
}
