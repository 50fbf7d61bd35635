import { createHash } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClosedPeriodView } from '@tally/catalog';
import { encodeLateEventNotice, type LateEventNotice, type NatsNames } from '@tally/nats';
import type { Logger } from '@tally/observability';
import type { StoredEvent, StoredEventObserver } from './batch-writer';

/** What the notifier needs of the closed-period markers (`ClosedPeriodView` in production). */
export interface ClosedPeriods {
  /** Resolves true once every marker written before the call is known. */
  catchUp(): Promise<boolean>;
  closedPeriodAt(tenant: string, customer: string, tsMs: number): string | undefined;
}

/** Port: where notices go (the late-events stream in production). Resolves once each is durable. */
export interface LateEventNoticeSink {
  publish(notices: Array<{ notice: LateEventNotice; msgId: string }>): Promise<void>;
}

export class JetStreamLateEventNoticeSink implements LateEventNoticeSink {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly timeoutMs = 5_000,
  ) {
    this.js = jetstream(nc);
  }

  async publish(notices: Array<{ notice: LateEventNotice; msgId: string }>): Promise<void> {
    await Promise.all(
      notices.map(({ notice, msgId }) =>
        this.js.publish(this.names.lateEventsSubject(notice.tenant), encodeLateEventNotice(notice), {
          msgID: msgId,
          timeout: this.timeoutMs,
        }),
      ),
    );
  }
}

/**
 * The writer's part in rebilling: of the events of a batch that are in ClickHouse, those whose time
 * falls in a closed period of their customer are late; one notice per (tenant, customer, period) goes
 * to the durable late-events stream, and the billing worker turns it into a rebill.
 *
 * At least once, crash by crash (the writer's loop: insert → `stored()` → ack the events):
 * - dies before the notices are acked by JetStream: the events are not acked either, so JetStream
 *   redelivers them; the dedup lookup finds them stored and reports them as `existing`, which this
 *   observer checks exactly like newly stored ones, so the notices are published then;
 * - dies after the notices are durable and before the events are acked: the same, and the notice is
 *   published again (JetStream drops it when the batch is the same within the duplicate window: the
 *   message id is a digest of the events it covers). A notice more costs a recomputation that finds
 *   the same fingerprint and writes nothing;
 * - the notices stream refuses (full, unavailable): `stored()` rejects, the batch stays unacked and
 *   is retried: the writer stalls rather than loses a rebill.
 * Nothing is missed between close and invoice: billing writes the closed marker before it reads the
 * usage, and `stored()` first brings its view of the markers up to date with the bucket. An event
 * stored before the marker existed is in the invoice's usage; one stored later is reported here. An
 * event both in the usage and reported costs a recomputation that finds nothing changed.
 */
export class LateEventNotifier implements StoredEventObserver {
  constructor(
    private readonly view: ClosedPeriods,
    private readonly sink: LateEventNoticeSink,
    private readonly logger: Logger,
  ) {}

  async stored(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (!(await this.view.catchUp().catch(() => false)))
      throw new Error('closed-period markers could not be brought up to date; batch not acked');
    const groups = new Map<string, { notice: LateEventNotice; hash: ReturnType<typeof createHash> }>();
    for (const e of events) {
      const period = this.view.closedPeriodAt(e.tenant, e.customer, e.ts);
      if (period === undefined) continue;
      const key = `${e.tenant}\u0000${e.customer}\u0000${period}`;
      let group = groups.get(key);
      if (!group) {
        group = {
          notice: { tenant: e.tenant, customer: e.customer, period, count: 0, sampleEventId: e.id },
          hash: createHash('sha256').update(key),
        };
        groups.set(key, group);
      }
      group.notice.count++;
      group.hash.update('\u0000').update(e.id);
    }
    if (groups.size === 0) return;
    const notices = [...groups.values()].map(({ notice, hash }) => ({ notice, msgId: `late:${hash.digest('base64url')}` }));
    await this.sink.publish(notices);
    for (const { notice } of notices)
      this.logger.info(
        { tenant: notice.tenant, customer: notice.customer, period: notice.period, lateEvents: notice.count, eventId: notice.sampleEventId },
        'late events: notice published for rebilling',
      );
  }
}

/** The notifier on the billing bucket's markers and the late-events stream. */
export async function openLateEventNotifier(
  nc: NatsConnection,
  names: NatsNames,
  logger: Logger,
): Promise<{ notifier: LateEventNotifier; close(): Promise<void> }> {
  const view = await ClosedPeriodView.open(nc, names, (error) =>
    logger.warn({ err: error }, 'closed-period watch problem (retrying)'),
  );
  return {
    notifier: new LateEventNotifier(view, new JetStreamLateEventNoticeSink(nc, names), logger),
    close: () => view.close(),
  };
}
