import { randomBytes } from 'node:crypto';
import { WebhookDestinationPolicy } from '@tally/catalog';
import type { NatsConnection } from '@tally/nats';
import type { Logger } from '@tally/observability';
import type { AlertEnvelope } from './alert-envelope';
import type { AlertStateRecord, AlertStateStore } from './alert-state';
import { deliverWebhook, type RetryPolicy } from './webhook';

const DEFAULT_WEBHOOK_RETRIES: RetryPolicy = { maxAttempts: 5, backoffMs: 1_000, timeoutMs: 10_000 };

/** Where one alert goes besides `<prefix>.alerts.<tenant>`. */
export interface AlertRoute<M extends AlertEnvelope> {
  /** A signed webhook, retried with back-off; its outcome is recorded (`delivered` or `failed`). */
  webhook?: { url: string; secret?: string };
  /**
   * What the crossing sets off (progressive billing: wake the period's workflow, which issues the
   * interim invoice). When it throws, the alert stays `claimed` and is delivered again, with the same
   * id, once the claim timeout has passed, by this instance or another: a crossing is never lost to a
   * failed action. The action must therefore be idempotent.
   */
  action?: (alert: M) => Promise<void>;
}

export interface AlertDispatchOptions {
  /** A claimed alert still undelivered after this long (its instance died, its action failed) is delivered again. */
  claimTimeoutMs: number;
  /** How webhooks are retried; needed only where routes have webhooks. */
  webhook?: RetryPolicy;
  /** Webhook destinations allowed besides public addresses (operator allow-list). */
  webhookAllow?: readonly string[];
}

/**
 * The alert path every threshold goes through, usage rules and progressive billing alike: an alert is
 * claimed once in the alert-state bucket (create-if-absent, so of several instances that see the same
 * crossing exactly one fires), published on `<prefix>.alerts.<tenant>`, then delivered to its route. An
 * instance that dies between claiming and delivering leaves a `claimed` record; after the claim timeout
 * another evaluation delivers it with the same alert id, so an alert is never lost, and is delivered
 * twice only after such a crash or a failed action.
 */
export class AlertDispatcher {
  private readonly instance = randomBytes(6).toString('hex');
  /** Keys this instance has seen fired, until their period ends: spares a KV read per crossing and run. */
  private readonly fired = new Map<string, number>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly destinations: WebhookDestinationPolicy;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjectOf: (tenant: string) => string,
    private readonly state: AlertStateStore,
    private readonly logger: Logger,
    private readonly options: AlertDispatchOptions,
  ) {
    this.destinations = new WebhookDestinationPolicy(options.webhookAllow);
  }

  /** Forgets the keys of periods that ended (each evaluation calls it first). */
  forgetEnded(now: Date): void {
    for (const [key, periodEnd] of this.fired) if (periodEnd <= now.getTime()) this.fired.delete(key);
  }

  /**
   * Claims and delivers one crossing; false when it had fired already (or another instance is firing
   * it). `periodEnd` (epoch ms) bounds how long this instance remembers it.
   */
  async fire<M extends AlertEnvelope>(
    key: string,
    alert: M,
    periodEnd: number,
    route: AlertRoute<M>,
    now: Date,
  ): Promise<boolean> {
    if (this.fired.has(key)) return false;
    const record: AlertStateRecord<M> = {
      status: 'claimed',
      claimedAt: now.toISOString(),
      claimedBy: this.instance,
      alert,
    };
    let revision: number | undefined;
    if (await this.state.claim(key, record)) {
      revision = await this.state.revision(key);
    } else {
      const existing = await this.state.get<M>(key);
      const stale =
        existing?.record.status === 'claimed' &&
        now.getTime() - Date.parse(existing.record.claimedAt) > this.options.claimTimeoutMs;
      if (!existing || !stale) {
        this.fired.set(key, periodEnd);
        return false;
      }
      // Its instance died (or its action failed) before delivering: deliver the original alert (same id).
      const takeover: AlertStateRecord<M> = {
        ...existing.record,
        claimedAt: now.toISOString(),
        claimedBy: this.instance,
      };
      if (!(await this.state.replace(key, existing.revision, takeover))) return false;
      record.alert = existing.record.alert;
      revision = await this.state.revision(key);
    }
    this.fired.set(key, periodEnd);
    this.deliver(key, record, revision, route);
    return true;
  }

  /** Resolves when every delivery started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.deliveries.size) await Promise.all(this.deliveries);
  }

  /** Stops webhook retries (their records stay `claimed` and are taken over later) and waits for the rest. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.idle();
  }

  private deliver<M extends AlertEnvelope>(
    key: string,
    record: AlertStateRecord<M>,
    revision: number | undefined,
    route: AlertRoute<M>,
  ): void {
    const { alert } = record;
    const body = JSON.stringify(alert);
    const log = { tenant: alert.tenant, customer: alert.customer, alert: alert.id, type: alert.type };
    this.nc.publish(this.subjectOf(alert.tenant), body);
    this.logger.info(log, 'alert fired');
    const delivery = (async () => {
      let outcome: AlertStateRecord<M> = { ...record, status: 'delivered' };
      if (route.action) {
        try {
          await route.action(alert);
        } catch (error) {
          // Left `claimed`: after the claim timeout an evaluation (this instance's too) delivers it again.
          this.fired.delete(key);
          this.logger.error(
            { ...log, err: error },
            'alert action failed; delivered again after the claim timeout',
          );
          return;
        }
      }
      if (route.webhook) {
        const result = await deliverWebhook(
          { url: route.webhook.url, body, secret: route.webhook.secret, id: alert.id },
          this.options.webhook ?? DEFAULT_WEBHOOK_RETRIES,
          { signal: this.abort.signal, destinations: this.destinations },
        );
        if (this.abort.signal.aborted && !result.delivered) return; // shutting down: stays claimed
        outcome = {
          ...record,
          status: result.delivered ? 'delivered' : 'failed',
          webhook: { attempts: result.attempts, status: result.status, error: result.error },
        };
        if (result.refused)
          this.logger.error(
            { ...log, ...outcome.webhook },
            'alert webhook refused: its destination is not a public address',
          );
        else if (result.delivered)
          this.logger.info({ ...log, attempts: result.attempts }, 'alert webhook delivered');
        else this.logger.error({ ...log, ...outcome.webhook }, 'alert webhook failed after every attempt');
      }
      if (revision !== undefined) await this.state.replace(key, revision, outcome);
    })()
      .catch((error: unknown) => this.logger.error({ ...log, err: error }, 'alert delivery failed'))
      .finally(() => this.deliveries.delete(delivery));
    this.deliveries.add(delivery);
  }
}
