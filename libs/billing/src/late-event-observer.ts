import type { Client } from '@temporalio/client';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { Logger } from '@tally/observability';
import { connectTemporal, searchAttributes } from '@tally/temporal';
import { ClosedPeriodView } from './closed-periods';
import {
  BILLING_WORKFLOWS,
  billingWorkflowIds,
  LATE_EVENTS_SIGNAL,
  type RebillInput,
} from './workflow-contracts';

/** The part of the writer's `StoredEvent` the observer reads (structurally `@tally/ingest`'s). */
export interface StoredEventLike {
  tenant: string;
  id: string;
  /** Event time, epoch ms. */
  ts: number;
  customer: string;
}

export interface LateEvents {
  tenant: string;
  customer: string;
  period: string;
  eventIds: string[];
}

/** Port: tells billing about late events of one closed period (Temporal in production). */
export interface RebillTrigger {
  trigger(late: LateEvents): Promise<void>;
}

/** Signals-with-start `rebill/<tenant>/<customer>/<period>`: starts it if needed, else adds the events. */
export class TemporalRebillTrigger implements RebillTrigger {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly options: Pick<
      RebillInput,
      'quietSeconds' | 'idleSeconds' | 'activitySeconds' | 'heartbeatSeconds'
    > = {},
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
      signalArgs: [late.eventIds],
      typedSearchAttributes: [
        { key: searchAttributes.tenant, value: late.tenant },
        { key: searchAttributes.customer, value: late.customer },
        { key: searchAttributes.period, value: late.period },
        { key: searchAttributes.kind, value: 'rebill' },
      ],
    });
  }
}

export interface LateEventObserverOptions {
  /** Event ids per signal. Default 500. */
  idsPerSignal?: number;
  /** Late event ids held while billing is unreachable; beyond it they are logged and dropped. Default 1,000,000. */
  maxPending?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

/**
 * The writer's `StoredEventObserver` for billing: of every newly stored event, those whose time falls in
 * a closed period of their customer are reported to billing, which issues an adjustment.
 *
 * Nothing is missed between close and invoice: billing writes the closed marker before it reads the
 * usage, and `stored()` first brings its view of the markers up to date with the bucket (one request
 * per batch). An event stored before the marker existed is therefore in the invoice's usage; one
 * stored later is reported here. An event both in the usage and reported costs a recomputation that
 * finds nothing changed.
 *
 * Reporting never holds the writer up: late events are queued in memory and signalled in the
 * background, retried while Temporal is unreachable. (Lost only if the writer process dies while
 * Temporal is down; docs/billing.md says how to recover.)
 */
export class LateEventObserver {
  private readonly pending = new Map<string, LateEvents & { ids: Set<string> }>();
  private pendingIds = 0;
  private pump?: Promise<void>;
  private stopped = false;
  private wake?: () => void;
  private readonly o: Required<LateEventObserverOptions>;

  constructor(
    private readonly view: ClosedPeriodView,
    private readonly trigger: RebillTrigger,
    private readonly logger: Logger,
    options: LateEventObserverOptions = {},
  ) {
    this.o = { idsPerSignal: 500, maxPending: 1_000_000, retryMinMs: 500, retryMaxMs: 30_000, ...options };
  }

  async stored(events: readonly StoredEventLike[]): Promise<void> {
    if (events.length === 0) return;
    if (!(await this.view.catchUp().catch(() => false))) {
      this.logger.warn(
        'closed-period view could not catch up with the billing bucket; checking against what it has',
      );
    }
    for (const { tenant, id, ts, customer } of events) {
      const period = this.view.closedPeriodAt(tenant, customer, ts);
      if (period === undefined) continue;
      this.enqueue(tenant, customer, period, id);
    }
    if (this.pending.size) this.startPump();
  }

  /** Late events waiting to be reported (for metrics and tests). */
  get backlog(): number {
    return this.pendingIds;
  }

  /** Stops reporting, after trying for up to `timeoutMs` to send what is queued. */
  async close(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pendingIds > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.stopped = true;
    this.wake?.();
    await this.pump;
    if (this.pendingIds > 0)
      this.logger.error({ lateEvents: this.pendingIds }, 'late events not reported to billing at shutdown');
  }

  private enqueue(tenant: string, customer: string, period: string, id: string): void {
    const key = `${tenant}\u0000${customer}\u0000${period}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { tenant, customer, period, eventIds: [], ids: new Set() };
      this.pending.set(key, entry);
    }
    if (entry.ids.has(id)) return;
    if (this.pendingIds >= this.o.maxPending) {
      this.logger.error(
        { tenant, customer, period, eventId: id },
        'late-event backlog full; event not reported to billing',
      );
      return;
    }
    entry.ids.add(id);
    this.pendingIds++;
    this.logger.debug({ tenant, customer, period, eventId: id }, 'late event in a closed period');
  }

  private startPump(): void {
    this.pump ??= this.run().finally(() => {
      this.pump = undefined;
    });
  }

  private async run(): Promise<void> {
    let delay = this.o.retryMinMs;
    while (!this.stopped && this.pending.size > 0) {
      const [key, entry] = this.pending.entries().next().value as [string, LateEvents & { ids: Set<string> }];
      const ids = [...entry.ids].slice(0, this.o.idsPerSignal);
      try {
        await this.trigger.trigger({
          tenant: entry.tenant,
          customer: entry.customer,
          period: entry.period,
          eventIds: ids,
        });
        this.logger.info(
          {
            tenant: entry.tenant,
            customer: entry.customer,
            period: entry.period,
            lateEvents: ids.length,
            firstEventId: ids[0],
          },
          'late events reported for rebilling',
        );
        for (const id of ids) entry.ids.delete(id);
        this.pendingIds -= ids.length;
        if (entry.ids.size === 0) this.pending.delete(key);
        delay = this.o.retryMinMs;
      } catch (error) {
        this.logger.warn(
          {
            err: error,
            tenant: entry.tenant,
            customer: entry.customer,
            period: entry.period,
            lateEvents: ids.length,
          },
          'could not report late events to billing; retrying',
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        delay = Math.min(delay * 2, this.o.retryMaxMs);
      }
    }
  }
}

export interface LateEventReportingOptions {
  temporalAddress: string;
  temporalNamespace: string;
  /** Task queue of the billing worker. */
  taskQueue: string;
  rebill?: Pick<RebillInput, 'quietSeconds' | 'idleSeconds' | 'activitySeconds' | 'heartbeatSeconds'>;
}

/**
 * Everything the writer needs to report late events: the closed-period view and a lazily connected
 * Temporal client (the writer starts, and stores events, while Temporal is down).
 */
export async function openLateEventReporting(
  nc: NatsConnection,
  names: NatsNames,
  options: LateEventReportingOptions,
  logger: Logger,
): Promise<{ observer: LateEventObserver; close(): Promise<void> }> {
  const view = await ClosedPeriodView.open(nc, names, (error) =>
    logger.warn({ err: error }, 'closed-period watch problem (retrying)'),
  );
  const temporal = await connectTemporal({
    address: options.temporalAddress,
    namespace: options.temporalNamespace,
    lazy: true,
  });
  const observer = new LateEventObserver(
    view,
    new TemporalRebillTrigger(temporal.client, options.taskQueue, options.rebill),
    logger,
  );
  return {
    observer,
    async close() {
      await observer.close();
      await view.close();
      await temporal.close();
    },
  };
}
