import { jetstream, type JsMsg } from '@nats-io/jetstream';
import type { Client } from '@temporalio/client';
import {
  decodeLateEventNotice,
  DurableConsumerLoop,
  type DurableConsumerConfig,
  type NatsConnection,
  type NatsNames,
} from '@tally/nats';
import type { Logger } from '@tally/observability';
import {
  BILLING_WORKFLOWS,
  billingAttributes,
  billingWorkflowIds,
  LATE_EVENTS_SIGNAL,
  type RebillInput,
} from '@tally/billing-contracts';

/** Late events of one closed period, summed over the notices of one pull. */
export interface LateEvents {
  tenant: string;
  customer: string;
  period: string;
  count: number;
}

/** Port: tells billing about late events of one closed period (Temporal in production). */
export interface RebillTrigger {
  trigger(late: LateEvents): Promise<void>;
}

export type RebillOptions = Pick<
  RebillInput,
  'quietSeconds' | 'idleSeconds' | 'maxWaveSeconds' | 'maxHistoryEvents' | 'activitySeconds' | 'heartbeatSeconds'
>;

/** Signals-with-start `rebill/<tenant>/<customer>/<period>`: starts it if needed, else adds the count. */
export class TemporalRebillTrigger implements RebillTrigger {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly options: RebillOptions = {},
  ) {}

  async trigger(late: LateEvents): Promise<void> {
    const input: RebillInput = {
      tenant: late.tenant,
      customer: late.customer,
      period: late.period,
      ...this.options,
    };
    await this.client.workflow.signalWithStart(BILLING_WORKFLOWS.rebill, {
      taskQueue: this.taskQueue,
      workflowId: billingWorkflowIds.rebill(late.tenant, late.customer, late.period),
      args: [input],
      signal: LATE_EVENTS_SIGNAL,
      signalArgs: [late.count],
      typedSearchAttributes: billingAttributes('rebill', late.tenant, late.customer, late.period),
    });
  }
}

export interface RebillNoticeConsumerOptions {
  /** Notices taken at once; those of one period become one signal. Default 500. */
  batch?: number;
  /** Redelivery delay of a notice whose worker died before acking it. Default 30 s. */
  ackWaitMs?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

/**
 * The billing worker's side of late events: reads the notices the writer publishes to the late-events
 * stream (a work queue, durable consumer `<prefix>_rebill` shared by every billing worker) and
 * signals-with-start each period's rebill, acking the notices only once Temporal accepted the signal.
 *
 * At least once, crash by crash:
 * - Temporal is down or refuses: nothing is acked, the notices stay in the stream (held in progress,
 *   then retried with backoff), however long the outage;
 * - the worker dies after Temporal accepted and before the ack: the notices are redelivered after
 *   `ackWaitMs` and signalled again. The rebill recomputes the whole period and compares fingerprints,
 *   so a signal more makes it recompute, never bill twice;
 * - several workers: JetStream hands each notice to one of them at a time; two signals for one period
 *   from two workers land in the same workflow (its id is the period's), whose waves serialise them.
 */
export class RebillNoticeConsumer extends DurableConsumerLoop {
  private readonly o: Required<RebillNoticeConsumerOptions>;

  constructor(
    nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly trigger: RebillTrigger,
    private readonly logger: Logger,
    options: RebillNoticeConsumerOptions = {},
  ) {
    super(nc);
    this.o = { batch: 500, ackWaitMs: 30_000, retryMinMs: 500, retryMaxMs: 30_000, ...options };
  }

  protected consumerConfig(): DurableConsumerConfig {
    return {
      stream: this.names.lateEventsStream,
      durable: this.names.rebillConsumer,
      filterSubject: this.names.lateEventsSubjectAll,
      ackWaitMs: this.o.ackWaitMs,
      maxAckPending: 10_000,
    };
  }

  protected async run(): Promise<void> {
    const consumer = await jetstream(this.nc).consumers.get(
      this.names.lateEventsStream,
      this.names.rebillConsumer,
    );
    let delay = this.o.retryMinMs;
    while (this.running) {
      let messages: JsMsg[] = [];
      try {
        const fetched = await consumer.fetch({ max_messages: this.o.batch, expires: 1_000 });
        for await (const m of fetched) messages.push(m);
      } catch (error) {
        this.logger.warn({ err: error }, 'reading late-event notices failed; retrying');
        await this.sleep(delay);
        continue;
      }
      if (!messages.length) continue;
      while (this.running && messages.length) {
        messages = await this.signal(messages);
        if (messages.length) {
          for (const m of messages) m.working();
          await this.sleep(delay);
          delay = Math.min(delay * 2, this.o.retryMaxMs);
        } else delay = this.o.retryMinMs;
      }
      // Stopping with notices in hand: they are redelivered to whoever consumes next.
    }
  }

  /** Signals each period of the notices once, acks the notices of the periods Temporal accepted; returns the rest. */
  private async signal(messages: JsMsg[]): Promise<JsMsg[]> {
    const periods = new Map<string, { late: LateEvents; messages: JsMsg[] }>();
    for (const m of messages) {
      const notice = decodeLateEventNotice(m.data);
      if ('invalid' in notice) {
        // Cannot ever be signalled; keeping it would block nothing but would be retried forever.
        this.logger.error({ seq: m.seq, reason: notice.invalid }, 'late-event notice is not one; dropped');
        m.ack();
        continue;
      }
      const key = `${notice.tenant}\u0000${notice.customer}\u0000${notice.period}`;
      let entry = periods.get(key);
      if (!entry) {
        entry = {
          late: { tenant: notice.tenant, customer: notice.customer, period: notice.period, count: 0 },
          messages: [],
        };
        periods.set(key, entry);
      }
      entry.late.count += notice.count;
      entry.messages.push(m);
    }
    const failed: JsMsg[] = [];
    await Promise.all(
      [...periods.values()].map(async ({ late, messages: ms }) => {
        try {
          await this.trigger.trigger(late);
        } catch (error) {
          this.logger.warn(
            {
              err: error,
              tenant: late.tenant,
              customer: late.customer,
              period: late.period,
              lateEvents: late.count,
            },
            'could not signal the rebill; the notices stay in the stream and are retried',
          );
          failed.push(...ms);
          return;
        }
        for (const m of ms) m.ack();
        this.logger.info(
          {
            tenant: late.tenant,
            customer: late.customer,
            period: late.period,
            lateEvents: late.count,
            notices: ms.length,
          },
          'late events signalled for rebilling',
        );
      }),
    );
    await this.nc.flush().catch(() => undefined);
    return failed;
  }
}
