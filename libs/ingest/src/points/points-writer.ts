import { toStorageRows, type DataPointStorageRow } from '@tally/analytics-engine';
import { BoundedLabel } from '@tally/observability';
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import type { DeadLetter, DeadLetterSink } from '@tally/ingest-protocol';
import type { InboundMessage, WriteOutcome } from '../writer/batch-writer';
import type { MessageBatchWriter } from '../writer/writer-loop';
import { decodePointsMessage, fromWirePoint } from './points-message';

export interface PointKey {
  tenant: string;
  dataset: string;
  pointId: string;
}

export const pointKey = (k: PointKey): string => `${k.tenant}\u0000${k.dataset}\u0000${k.pointId}`;

/** Port: the data point store (ClickHouse `datapoints` and its `datapoint_ids` index in production). */
export interface PointStore {
  /** The `pointKey`s of `keys` already stored. */
  findExisting(keys: readonly PointKey[]): Promise<Set<string>>;
  /** Stores all rows or throws; a retry after an ambiguous failure is safe because of `findExisting`. */
  insert(rows: DataPointStorageRow[]): Promise<void>;
}

class PointsWriterMetrics {
  readonly inserted: Counter<'tenant'>;
  readonly duplicates: Counter;
  readonly deadLetters: Counter;
  readonly tenant = new BoundedLabel();

  constructor(registry: Registry) {
    this.inserted = new Counter({
      name: 'tally_writer_points_inserted_total',
      help: 'Data point rows stored',
      labelNames: ['tenant'],
      registers: [registry],
    });
    this.duplicates = new Counter({
      name: 'tally_writer_points_duplicates_total',
      help: 'Data points dropped as already stored',
      registers: [registry],
    });
    this.deadLetters = new Counter({
      name: 'tally_writer_points_dead_letters_total',
      help: 'Data point messages dead-lettered (undecodable)',
      registers: [registry],
    });
  }
}

/**
 * Turns a set of data point messages into one insert into `datapoints`, storing every point id of a
 * dataset once, the way `BatchWriter` stores events: it drops ids repeated within the batch and ids
 * already in `datapoint_ids` (filled by a materialized view from the very INSERT that stores the
 * points), so a batch redelivered after a crash between insert and ack, or a point sent again in
 * another request, is not counted twice, and queries need no FINAL. The first copy of a point wins.
 * A message that does not decode is dead-lettered with its raw payload.
 */
export class PointsBatchWriter implements MessageBatchWriter {
  private readonly metrics?: PointsWriterMetrics;

  constructor(
    private readonly store: PointStore,
    private readonly deadLetters: DeadLetterSink,
    registry?: Registry,
    private readonly clock: () => number = Date.now,
  ) {
    this.metrics = registry && new PointsWriterMetrics(registry);
  }

  async write(messages: InboundMessage[]): Promise<WriteOutcome> {
    const letters: DeadLetter[] = [];
    const candidates: Array<{ key: PointKey; row: DataPointStorageRow }> = [];
    const seen = new Set<string>();
    let duplicates = 0;
    for (const m of messages) {
      const decoded = decodePointsMessage(m.data);
      if (!decoded.ok) {
        letters.push({
          reason: 'UNDECODABLE',
          message: `data points message: ${decoded.reason}`,
          tenant: decoded.tenant ?? '_unknown',
          rawPayload: Buffer.from(m.data).toString('base64'),
          firstSeenAt: m.publishedAt,
          deadLetteredAt: this.clock(),
          deliveryCount: m.deliveryCount,
          streamSeq: m.streamSeq,
        });
        continue;
      }
      const { tenant, dataset, points } = decoded.message;
      if (tenant !== m.subjectTenant) {
        // The subject is what NATS permissions control, the payload is not (see InboundMessage).
        letters.push({
          reason: 'TENANT_MISMATCH',
          message: `data points message names tenant '${tenant}' but was published on the subject of tenant '${m.subjectTenant ?? '(none)'}'`,
          tenant: m.subjectTenant ?? '_unknown',
          rawPayload: Buffer.from(m.data).toString('base64'),
          firstSeenAt: m.publishedAt,
          deadLetteredAt: this.clock(),
          deliveryCount: m.deliveryCount,
          streamSeq: m.streamSeq,
        });
        continue;
      }
      const rows = toStorageRows(tenant, dataset, points.map(fromWirePoint));
      for (const row of rows) {
        const key = { tenant, dataset, pointId: row.point_id };
        const k = pointKey(key);
        if (seen.has(k)) {
          duplicates++;
          continue;
        }
        seen.add(k);
        candidates.push({ key, row });
      }
    }

    const existing = candidates.length
      ? await this.store.findExisting(candidates.map((c) => c.key))
      : new Set<string>();
    const fresh = candidates.filter((c) => !existing.has(pointKey(c.key))).map((c) => c.row);
    duplicates += candidates.length - fresh.length;

    if (fresh.length) await this.store.insert(fresh);
    if (letters.length) await this.deadLetters.publish(letters);
    if (this.metrics) {
      const perTenant = new Map<string, number>();
      for (const row of fresh) perTenant.set(row.tenant, (perTenant.get(row.tenant) ?? 0) + 1);
      for (const [tenant, n] of perTenant) this.metrics.inserted.inc({ tenant: this.metrics.tenant.value(tenant) }, n);
      this.metrics.duplicates.inc(duplicates);
      this.metrics.deadLetters.inc(letters.length);
    }
    return { inserted: fresh.length, duplicates, deadLettered: letters.length, stored: [], existing: [] };
  }
}
