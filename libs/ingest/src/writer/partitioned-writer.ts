import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { fenceTarget, takeOverPartition, type ClickHouse, type FenceTarget } from '@tally/clickhouse';
import type { NatsNames } from '@tally/nats';
import type { Logger } from '@tally/observability';
import type { DeadLetterSink, EventAdmission } from '@tally/ingest-protocol';
import { BatchWriter, type StoredEventObserver } from './batch-writer';
import { FencedEventStore } from './fenced-event-store';
import { WriterLoop, type WriterLoopOptions } from './writer-loop';
import type { WriterMetrics } from './writer-metrics';

export interface PartitionedWriterOptions {
  /** Partitions of the events stream (`TALLY_EVENT_PARTITIONS`); the gateway publishes with the same count. */
  partitions: number;
  /** How long a lease lasts without renewal; renewed every third of it. */
  leaseMs: number;
  /** Longest wait, at takeover, for the previous owner's running commits to end. */
  takeoverWaitMs: number;
  /**
   * Store into the shard-local tables (`events_local`, `event_ids_local`) of a ClickHouse cluster
   * rather than the single server's `events`; see `shards` for which node a partition goes to.
   */
  cluster: boolean;
  /** Replicas of the leases bucket (as the streams'). */
  replicas: number;
  loop: WriterLoopOptions;
}

export const defaultPartitionedWriterOptions: Omit<PartitionedWriterOptions, 'loop'> = {
  partitions: 1,
  leaseMs: 10_000,
  takeoverWaitMs: 60_000,
  cluster: false,
  replicas: 1,
};

export interface PartitionedWriterDependencies {
  nc: NatsConnection;
  names: NatsNames;
  clickhouse: ClickHouse;
  /**
   * On a cluster: one handle per shard, each on the node (one replica) that fences and stores that
   * shard's partitions; partition p is stored on `shards[shardOfPartition(p, shards.length)]`. The
   * fence table is per node, so every writer must name the same node per shard, in the same order.
   * Default: `[clickhouse]`.
   */
  shards?: readonly ClickHouse[];
  deadLetters: DeadLetterSink;
  admission: EventAdmission;
  logger: Logger;
  metrics?: WriterMetrics;
  observer?: StoredEventObserver;
}

/**
 * The shard that stores a partition: partitions are dealt round-robin over the shards, so one
 * customer's events (one partition, see `eventPartition`) and their dedup index live on one shard,
 * and the dedup lookup before each insert stays local. Changing the shard count moves partitions:
 * like the partition count, change it only with the stream drained.
 */
export function shardOfPartition(partition: number, shards: number): number {
  return partition % shards;
}

interface Lease {
  owner: string;
  /** Holder's clock: skew only delays a takeover (safety rests on the fence, not on clocks). */
  expiresAt: number;
}

interface Owned {
  token: number;
  /** KV revision of our last write of the lease (for the next compare-and-set). */
  revision: number;
  loop?: WriterLoop;
  /** Takeover or start in progress, or the loop's stop. */
  work?: Promise<void>;
  released?: boolean;
}

/**
 * One writer process's share of the events stream: it holds leases on some of the stream's
 * partitions and runs one `WriterLoop` per partition it holds, each on the partition's own durable
 * consumer. Ownership, and why no event is stored twice or lost with any number of writers, is in
 * docs/ingestion.md ("Several writers"); in short:
 *
 * - a lease is a key `p.<n>` in NATS KV, taken and renewed by compare-and-set; the KV revision at
 *   which it was taken is the owner's token, and tokens only grow;
 * - before reading or writing anything of a partition, the new owner records its token in
 *   ClickHouse (`writer_fences`) and waits until no commit of an older token is running; every
 *   insert commits only if its token is still the latest when the server runs it. A lease that
 *   lapsed while its holder was paused therefore costs that holder its inserts, never the count;
 * - each writer aims at ceil(partitions / live writers) partitions (live: a heartbeat key `w.<id>`
 *   renewed with the leases), takes free or expired ones, and releases its extras when writers join.
 */
export class PartitionedWriter {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private kv?: KV;
  private readonly owned = new Map<number, Owned>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private running = false;
  private readonly target: FenceTarget;
  private readonly options: PartitionedWriterOptions;

  constructor(
    private readonly deps: PartitionedWriterDependencies,
    options: Partial<PartitionedWriterOptions> & { loop: WriterLoopOptions },
  ) {
    this.options = { ...defaultPartitionedWriterOptions, ...options };
    this.target = fenceTarget(deps.clickhouse.database, this.options.cluster);
  }

  /** The ClickHouse node that stores `partition`. */
  private clickhouseFor(partition: number): ClickHouse {
    const shards = this.deps.shards?.length ? this.deps.shards : [this.deps.clickhouse];
    return shards[shardOfPartition(partition, shards.length)];
  }

  /** The partitions whose loop is running now. */
  partitions(): number[] {
    return [...this.owned].filter(([, o]) => o.loop && !o.released).map(([p]) => p).sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const { nc, names } = this.deps;
    this.kv = await openLeasesBucket(nc, names, this.options.replicas, this.options.leaseMs);
    await removeSharedConsumer(nc, names, this.deps.logger);
    this.running = true;
    await this.tick();
    this.schedule();
  }

  /** Stops every loop (each finishes or hands back its batch), then gives the leases back at once. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    await Promise.all([...this.owned.keys()].map((p) => this.release(p)));
    await this.kv?.delete(`w.${this.id}`).catch(() => undefined);
  }

  /**
   * For tests: stop renewing without giving anything back, as a paused or partitioned process does.
   * The loops keep running until a fenced insert tells them they lost their partition.
   */
  freezeLeases(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => this.schedule());
    }, Math.max(50, Math.floor(this.options.leaseMs / 3)));
  }

  private async tick(): Promise<void> {
    try {
      await this.renewAndBalance();
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'partition leases: tick failed; retrying');
    }
  }

  private async renewAndBalance(): Promise<void> {
    const kv = this.bucket();
    const now = Date.now();
    await kv.put(`w.${this.id}`, JSON.stringify({ at: now }));
    const live = await this.liveWriters(now);
    const share = Math.ceil(this.options.partitions / Math.max(1, live));

    for (const [partition, owned] of this.owned) {
      if (owned.released) continue;
      try {
        owned.revision = await kv.update(leaseKey(partition), this.leaseValue(now), owned.revision);
      } catch (error) {
        this.deps.logger.warn({ partition, token: owned.token, err: error }, 'partition lease lost');
        this.lost(partition, owned.token);
      }
    }

    const held = [...this.owned].filter(([, o]) => !o.released).map(([p]) => p);
    for (const partition of held.slice(share)) void this.release(partition);

    if (held.length >= share) return;
    const start = Number.parseInt(this.id.slice(-6), 16) % this.options.partitions;
    for (let i = 0; i < this.options.partitions && this.heldCount() < share; i++) {
      const partition = (start + i) % this.options.partitions;
      if (this.owned.has(partition)) continue;
      const revision = await this.tryAcquire(partition, now);
      if (revision !== undefined) this.takeOver(partition, revision);
    }
  }

  private bucket(): KV {
    if (!this.kv) throw new Error('PartitionedWriter not started');
    return this.kv;
  }

  private heldCount(): number {
    return [...this.owned.values()].filter((o) => !o.released).length;
  }

  private async liveWriters(now: number): Promise<number> {
    const kv = this.bucket();
    let live = 0;
    for await (const key of await kv.keys('w.*')) {
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT') continue;
      const at = Number((entry.json<{ at: number }>()).at);
      if (now - at < this.options.leaseMs) live++;
    }
    return live;
  }

  /**
   * Takes the lease if it is free or expired, by compare-and-set: of two writers racing for it one
   * wins. The revision of the winning write is the owner's token (revisions of a bucket only grow).
   */
  private async tryAcquire(partition: number, now: number): Promise<number | undefined> {
    const kv = this.bucket();
    const key = leaseKey(partition);
    try {
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT') return await kv.create(key, this.leaseValue(now));
      const lease = entry.json<Lease>();
      if (lease.owner !== this.id && lease.expiresAt > now) return undefined;
      return await kv.update(key, this.leaseValue(now), entry.revision);
    } catch {
      return undefined; // taken meanwhile by another writer
    }
  }

  private leaseValue(now: number): string {
    return JSON.stringify({ owner: this.id, expiresAt: now + this.options.leaseMs } satisfies Lease);
  }

  /** Fence, then start the partition's loop; on failure give the lease back for a later attempt. */
  private takeOver(partition: number, token: number): void {
    const owned: Owned = { token, revision: token };
    this.owned.set(partition, owned);
    const { deps } = this;
    owned.work = (async () => {
      try {
        await takeOverPartition(this.clickhouseFor(partition), this.target, { partition, token }, { waitMs: this.options.takeoverWaitMs });
        if (owned.released || this.owned.get(partition) !== owned) return;
        const store = new FencedEventStore(this.clickhouseFor(partition), this.target, { partition, token });
        const writer = new BatchWriter(store, deps.deadLetters, deps.admission);
        const loop = new WriterLoop(
          deps.nc,
          deps.names,
          writer,
          deps.logger,
          deps.metrics,
          deps.observer,
          { ...this.options.loop, onOwnershipLost: () => this.lost(partition, token) },
          {
            stream: deps.names.eventsStream,
            consumer: deps.names.writerPartitionConsumer(partition),
            filterSubject: deps.names.eventsPartitionFilters(partition, this.options.partitions)[0],
            filterSubjects: deps.names.eventsPartitionFilters(partition, this.options.partitions),
            tenantOf: deps.names.tenantOfEventsSubject,
          },
        );
        await loop.start();
        owned.loop = loop;
        deps.logger.info({ partition, token, writer: this.id }, 'partition taken over');
      } catch (error) {
        deps.logger.warn({ partition, token, err: error }, 'partition takeover failed; giving the lease back');
        // Not release(): it waits for this very takeover to end.
        owned.released = true;
        if (this.owned.get(partition) === owned) this.owned.delete(partition);
        await this.kv?.delete(leaseKey(partition), { previousSeq: owned.revision }).catch(() => undefined);
      }
    })();
  }

  /** Our lease is gone (expired and taken, or fenced): stop the loop, forget the partition. */
  private lost(partition: number, token: number): void {
    const owned = this.owned.get(partition);
    if (!owned || owned.token !== token) return;
    owned.released = true;
    this.owned.delete(partition);
    void (owned.work ?? Promise.resolve()).then(() => owned.loop?.stop());
  }

  /** Stops the partition's loop, then deletes the lease if it is still ours, for another writer to take. */
  private async release(partition: number): Promise<void> {
    const owned = this.owned.get(partition);
    if (!owned) return;
    owned.released = true;
    await owned.work?.catch(() => undefined);
    await owned.loop?.stop();
    if (this.owned.get(partition) === owned) this.owned.delete(partition);
    await this.kv?.delete(leaseKey(partition), { previousSeq: owned.revision }).catch(() => undefined);
  }
}

const leaseKey = (partition: number) => `p.${partition}`;

async function openLeasesBucket(nc: NatsConnection, names: NatsNames, replicas: number, leaseMs: number): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    return await kvm.create(names.writerLeasesBucket, { history: 1, replicas, ttl: Math.max(60_000, leaseMs * 10) });
  } catch (error) {
    if (error instanceof JetStreamApiError) return kvm.open(names.writerLeasesBucket);
    throw error;
  }
}

/**
 * The consumer that every writer shared before partitions: its filter overlaps the partitions' on a
 * work-queue stream, so it must go. Upgrade with every old writer stopped (docs/ingestion.md).
 */
async function removeSharedConsumer(nc: NatsConnection, names: NatsNames, logger: Logger): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.consumers.delete(names.eventsStream, names.writerConsumer);
    logger.warn({ consumer: names.writerConsumer }, 'removed the shared writer consumer of an older Tally (partitioned consumers replace it)');
  } catch {
    // not there
  }
}
