import { JetStreamApiCodes, JetStreamApiError, jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
// Replay goes through ingestion's own reader, admission rule and message format (the shared wire
// protocol lib), so that the wire format of events and dead letters has exactly one definition.
import {
  batchMessageId,
  CatalogAdmission,
  listDeadLetters,
  partitionBatch,
  splitToFit,
  type AdmissionCatalog,
  type DeadLetterReason,
  type IngestBatchMessage,
  type StoredDeadLetter,
} from '@tally/ingest-protocol';
import type { UsageEvent } from '@tally/event-schema';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { Logger } from '@tally/observability';
import { billingKeys } from '@tally/catalog';
import { emptyReplayCounts, type ReplayPageRequest, type ReplayPageResult } from '@tally/billing-contracts';

/** Every reason the writer dead-letters with (a record over the type, so a new reason fails to compile here). */
const REASONS: Record<DeadLetterReason, true> = {
  UNDECODABLE: true,
  UNKNOWN_TENANT: true,
  UNKNOWN_CUSTOMER: true,
  IDEMPOTENCY_CONFLICT: true,
  TENANT_MISMATCH: true,
  STORE_REFUSED: true,
};
export const DEAD_LETTER_REASONS = Object.keys(REASONS) as [DeadLetterReason, ...DeadLetterReason[]];

/** What a replay records per republished letter, so that a second replay does not publish it again. */
export interface ReplayRecord {
  replayId: string;
  eventId: string;
  replayedAt: string;
}

/**
 * Re-validates dead-lettered events against today's catalog (the writer's own `CatalogAdmission`) and
 * republishes the valid ones to the events stream, unchanged: same event ids (their idempotency keys),
 * so the writer stores each at most once whatever happens (its dedup index), and the original
 * receipt time. Dead letters themselves are never modified: a letter that is still refused stays, and
 * the replay reports its current reason. Each republished letter is recorded in the billing bucket, so
 * a later replay skips it instead of publishing it again.
 */
export class DeadLetterReplayer {
  private readonly js: JetStreamClient;
  private readonly admission: CatalogAdmission;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
    catalog: AdmissionCatalog,
    private readonly kv: KV,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    /** The events stream's partitions (`TALLY_EVENT_PARTITIONS`): a replayed event goes where the gateway would send it. */
    private readonly partitions = 1,
  ) {
    this.js = jetstream(nc);
    this.admission = new CatalogAdmission(catalog);
  }

  async replayPage(req: ReplayPageRequest): Promise<ReplayPageResult> {
    const fromSeq = Math.max(req.fromSeq ?? 1, req.filter.fromSeq ?? 1);
    const { letters, nextSeq } = await listDeadLetters(this.nc, this.names, {
      tenant: req.tenant,
      fromSeq,
      limit: req.limit,
    });
    const counts = emptyReplayCounts();
    const valid: Array<StoredDeadLetter & { event: UsageEvent }> = [];
    for (const letter of letters) {
      counts.scanned++;
      if (req.filter.reason !== undefined && letter.reason !== req.filter.reason) continue;
      if (req.filter.customer !== undefined && letter.event?.customer !== req.filter.customer) continue;
      counts.matched++;
      if (!letter.event) {
        counts.notReplayable++;
        continue;
      }
      if (await this.wasReplayed(req.tenant, letter.seq)) {
        counts.alreadyReplayed++;
        continue;
      }
      const rejection = this.admission.check(req.tenant, letter.event);
      if (rejection) {
        counts.stillInvalid[rejection.reason] = (counts.stillInvalid[rejection.reason] ?? 0) + 1;
        continue;
      }
      valid.push({ ...letter, event: letter.event });
    }
    counts.replayed = valid.length;
    if (!req.dryRun && valid.length) await this.republish(req, valid);
    return { counts, ...(nextSeq !== undefined ? { nextSeq } : {}) };
  }

  private async wasReplayed(tenant: string, seq: number): Promise<boolean> {
    const entry = await this.kv.get(billingKeys.replayed(tenant, seq));
    return entry !== null && entry.operation === 'PUT';
  }

  /**
   * Publishes first, records second: a crash in between republishes the same letters on the retry,
   * with the same message ids (JetStream drops them within its duplicate window, the writer's dedup
   * after it), and then records them.
   */
  private async republish(
    req: ReplayPageRequest,
    letters: Array<StoredDeadLetter & { event: UsageEvent }>,
  ): Promise<void> {
    // One message per original receipt time, so every event keeps the `receivedAt` it first had.
    const byReceipt = new Map<number, Array<StoredDeadLetter & { event: UsageEvent }>>();
    for (const l of letters) byReceipt.set(l.firstSeenAt, [...(byReceipt.get(l.firstSeenAt) ?? []), l]);
    const maxPayload = this.nc.info?.max_payload ?? 1024 * 1024;
    for (const [receivedAt, group] of byReceipt) {
      const batch: IngestBatchMessage = {
        v: 1,
        tenant: req.tenant,
        receivedAt,
        events: group.map((l) => l.event),
      };
      // To the partition the gateway would use, so that one writer at a time handles each key.
      for (const [partition, group] of partitionBatch(batch, this.partitions)) {
        const id = `replay:${batchMessageId(group)}`;
        const parts = splitToFit(group, maxPayload);
        for (const [i, part] of parts.entries()) {
          await this.js.publish(this.names.eventsPartitionSubject(req.tenant, partition), part, {
            msgID: parts.length === 1 ? id : `${id}:${i}`,
          });
        }
      }
    }
    const record: Omit<ReplayRecord, 'eventId'> = {
      replayId: req.replayId,
      replayedAt: new Date(this.clock()).toISOString(),
    };
    for (const l of letters) {
      try {
        await this.kv.create(
          billingKeys.replayed(req.tenant, l.seq),
          JSON.stringify({ ...record, eventId: l.event.id }),
        );
      } catch (error) {
        // Already recorded (a retried page): the record stands.
        if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence))
          throw error;
      }
      this.logger.info(
        { tenant: req.tenant, eventId: l.event.id, deadLetterSeq: l.seq, replayId: req.replayId },
        'dead letter replayed',
      );
    }
  }
}
