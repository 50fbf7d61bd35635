import { eventPartition } from '@tally/nats';
import type { IngestBatchMessage } from './batch-message';

/**
 * A batch's events grouped by partition of the events stream (`eventPartition` of tenant and
 * customer), in order of first appearance; the whole batch when `partitions` is 1 or every event
 * falls in one partition. The gateway and dead-letter replay publish each group to its partition's
 * subject, so that one writer at a time handles each key (docs/ingestion.md).
 */
export function partitionBatch(batch: IngestBatchMessage, partitions: number): Array<[number, IngestBatchMessage]> {
  if (partitions <= 1) return [[0, batch]];
  const groups = new Map<number, IngestBatchMessage['events']>();
  for (const e of batch.events) {
    const p = eventPartition(batch.tenant, e.customer, partitions);
    let list = groups.get(p);
    if (!list) groups.set(p, (list = []));
    list.push(e);
  }
  if (groups.size === 1) return [[groups.keys().next().value as number, batch]];
  return [...groups].map(([p, events]) => [p, { ...batch, events }]);
}
