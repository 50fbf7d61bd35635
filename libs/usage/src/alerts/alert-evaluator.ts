import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AlertRule, CatalogProjection } from '@tally/catalog';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { Logger } from '@tally/observability';
import { compareDecimals } from '@tally/pricing';
import { resolveSeries } from '@tally/metering';
import { currentPeriod, type UsagePeriod } from '@tally/billing-periods';
import { MeterQueryEndpoint } from '../endpoints/meter-query.endpoint';
import { UsageCatalog } from '../usage-catalog';
import {
  USAGE_CATALOG_CACHE,
  USAGE_CLOCK,
  USAGE_LOGGER,
  USAGE_NATS,
  USAGE_NATS_NAMES,
  USAGE_OPTIONS,
} from '../usage.tokens';
import type { UsageOptions } from '../usage-options';
import { type AlertMessage, alertId, alertKey, thresholdValue } from './alert-message';
import { type AlertStateRecord, AlertStateStore } from './alert-state';
import { WebhookDestinationPolicy } from '@tally/catalog';
import { deliverWebhook } from './webhook';

/** What one evaluation did (returned for tests and logged). */
export interface AlertRunReport {
  rules: number;
  crossed: number;
  fired: number;
}

interface Crossing {
  rule: AlertRule;
  customer: string;
  usage: string;
  threshold: string;
  period: UsagePeriod;
}

/**
 * Checks every alert rule against current-period usage and fires each (rule, customer, period,
 * threshold) once: a record created with create-if-absent in the alert-state bucket decides which
 * instance fires, then the alert goes to NATS (`<prefix>.alerts.<tenant>`) and, when the rule has a
 * `webhookUrl`, to a signed webhook retried with back-off. An instance that dies between claiming and
 * delivering leaves a `claimed` record; after `alertClaimTimeoutMs` another run delivers it (with the
 * same alert id), so an alert is never lost, and is delivered twice only after such a crash.
 */
@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly instance = randomBytes(6).toString('hex');
  private readonly fired = new Map<string, number>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;
  private running?: Promise<AlertRunReport>;
  private stopped = false;

  constructor(
    @Inject(MeterQueryEndpoint) private readonly meterQueries: MeterQueryEndpoint,
    @Inject(UsageCatalog) private readonly usage: UsageCatalog,
    @Inject(AlertStateStore) private readonly state: AlertStateStore,
    @Inject(USAGE_CATALOG_CACHE) private readonly catalog: CatalogProjection,
    @Inject(USAGE_NATS) private readonly nc: NatsConnection,
    @Inject(USAGE_NATS_NAMES) private readonly names: NatsNames,
    @Inject(USAGE_LOGGER) private readonly logger: Logger,
    @Inject(USAGE_OPTIONS) private readonly options: UsageOptions,
    @Inject(USAGE_CLOCK) private readonly now: () => Date,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    // Pending webhook retries stop; their records stay `claimed` and are taken over later.
    this.abort.abort();
    await Promise.all(this.deliveries);
  }

  /** Evaluates every rule once (runs do not overlap: a call during a run waits for that run). */
  runOnce(): Promise<AlertRunReport> {
    this.running ??= this.evaluate().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Resolves when every webhook delivery started so far has finished (tests). */
  async idle(): Promise<void> {
    while (this.deliveries.size) await Promise.all(this.deliveries);
  }

  private schedule(): void {
    if (this.stopped || this.options.alertIntervalMs <= 0) return;
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((error: unknown) => this.logger.error({ err: error }, 'alert evaluation failed'))
        .finally(() => this.schedule());
    }, this.options.alertIntervalMs);
    this.timer.unref();
  }

  private async evaluate(): Promise<AlertRunReport> {
    const now = this.now();
    const report: AlertRunReport = { rules: 0, crossed: 0, fired: 0 };
    for (const [key, periodEnd] of this.fired) if (periodEnd <= now.getTime()) this.fired.delete(key);
    for (const tenant of this.catalog.tenantsWithAlertRules()) {
      for (const rule of this.catalog.listAlertRules(tenant)) {
        report.rules++;
        let crossings: Crossing[];
        try {
          crossings = await this.crossings(rule, now);
        } catch (error) {
          this.logger.error({ err: error, tenant, rule: rule.id }, 'could not evaluate alert rule');
          continue;
        }
        report.crossed += crossings.length;
        for (const crossing of crossings) {
          try {
            if (await this.fire(crossing, now)) report.fired++;
          } catch (error) {
            this.logger.error(
              { err: error, tenant, rule: rule.id, customer: crossing.customer },
              'could not fire alert',
            );
          }
        }
      }
    }
    return report;
  }

  /** The customers whose current-period usage is at or above the rule's threshold. */
  private async crossings(rule: AlertRule, now: Date): Promise<Crossing[]> {
    const meter = this.catalog.getMeter(rule.tenant, rule.meter);
    if (!meter || (rule.profile !== undefined && !meter.profiles.some((p) => p.key === rule.profile)))
      return [];
    const series = resolveSeries(meter, rule.profile);
    const threshold = thresholdValue(rule.threshold);
    const out: Crossing[] = [];
    for (const group of this.periodGroups(rule, now)) {
      const rows = await this.meterQueries.customerTotals(
        rule.tenant,
        meter,
        series,
        group.period,
        group.customers,
      );
      for (const row of rows) {
        if (group.exclude?.has(row.customer)) continue;
        if (compareDecimals(row.value, threshold) >= 0) {
          out.push({ rule, customer: row.customer, usage: row.value, threshold, period: group.period });
        }
      }
    }
    return out;
  }

  /**
   * Customers grouped by current period, so that one query serves each group. A tenant-wide rule
   * covers every customer with usage: those on the tenant's calendar month (including customers that
   * are not in the catalog) in one query, the others (own zone or subscription) by their period.
   */
  private periodGroups(
    rule: AlertRule,
    now: Date,
  ): Array<{ period: UsagePeriod; customers?: string[]; exclude?: Set<string> }> {
    if (rule.customer !== undefined) {
      return [
        { period: this.usage.currentPeriod(rule.tenant, rule.customer, now), customers: [rule.customer] },
      ];
    }
    const fallback = currentPeriod(now, this.usage.tenantZone(rule.tenant));
    const others = new Map<string, { period: UsagePeriod; customers: string[] }>();
    for (const customer of this.catalog.listCustomers(rule.tenant)) {
      const period = this.usage.currentPeriod(rule.tenant, customer.id, now);
      if (period.from.getTime() === fallback.from.getTime() && period.to.getTime() === fallback.to.getTime())
        continue;
      const key = `${period.from.getTime()}|${period.to.getTime()}`;
      const group = others.get(key) ?? { period, customers: [] };
      group.customers.push(customer.id);
      others.set(key, group);
    }
    const exclude = new Set([...others.values()].flatMap((g) => g.customers));
    return [{ period: fallback, exclude }, ...others.values()];
  }

  /** Claims and delivers one crossing; false when it had fired already. */
  private async fire(crossing: Crossing, now: Date): Promise<boolean> {
    const key = alertKey(crossing.rule, crossing.customer, crossing.period.from);
    if (this.fired.has(key)) return false;
    const record: AlertStateRecord = {
      status: 'claimed',
      claimedAt: now.toISOString(),
      claimedBy: this.instance,
      alert: this.message(crossing, key, now),
    };
    let revision: number | undefined;
    if (await this.state.claim(key, record)) {
      revision = await this.state.revision(key);
    } else {
      const existing = await this.state.get(key);
      const stale =
        existing?.record.status === 'claimed' &&
        now.getTime() - Date.parse(existing.record.claimedAt) > this.options.alertClaimTimeoutMs;
      if (!existing || !stale) {
        this.fired.set(key, crossing.period.to.getTime());
        return false;
      }
      // Its instance died before delivering: deliver the original alert (same id) in its place.
      const takeover: AlertStateRecord = {
        ...existing.record,
        claimedAt: now.toISOString(),
        claimedBy: this.instance,
      };
      if (!(await this.state.replace(key, existing.revision, takeover))) return false;
      record.alert = existing.record.alert;
      revision = await this.state.revision(key);
    }
    this.fired.set(key, crossing.period.to.getTime());
    this.deliver(key, record, revision);
    return true;
  }

  private message(crossing: Crossing, key: string, now: Date): AlertMessage {
    const { rule } = crossing;
    return {
      id: alertId(key),
      type: 'usage.threshold_crossed',
      tenant: rule.tenant,
      rule: rule.id,
      meter: rule.meter,
      profile: rule.profile ?? null,
      series: rule.profile === undefined ? rule.meter : `${rule.meter}:${rule.profile}`,
      customer: crossing.customer,
      threshold: rule.threshold,
      thresholdValue: crossing.threshold,
      usage: crossing.usage,
      period: {
        from: crossing.period.from.toISOString(),
        to: crossing.period.to.toISOString(),
        timezone: crossing.period.timezone,
      },
      firedAt: now.toISOString(),
    };
  }

  private deliver(key: string, record: AlertStateRecord, revision: number | undefined): void {
    const { alert } = record;
    const body = JSON.stringify(alert);
    const rule = this.catalog.listAlertRules(alert.tenant).find((r) => r.id === alert.rule);
    const log = { tenant: alert.tenant, rule: alert.rule, customer: alert.customer, alert: alert.id };
    this.nc.publish(this.names.alertsSubject(alert.tenant), body);
    this.logger.info({ ...log, usage: alert.usage, threshold: alert.thresholdValue }, 'usage alert fired');
    const delivery = (async () => {
      let outcome: AlertStateRecord = { ...record, status: 'delivered' };
      if (rule?.webhookUrl) {
        const result = await deliverWebhook(
          { url: rule.webhookUrl, body, secret: rule.webhookSecret, id: alert.id },
          {
            maxAttempts: this.options.webhookMaxAttempts,
            backoffMs: this.options.webhookBackoffMs,
            timeoutMs: this.options.webhookTimeoutMs,
          },
          { signal: this.abort.signal, destinations: new WebhookDestinationPolicy(this.options.webhookAllow) },
        );
        if (this.abort.signal.aborted && !result.delivered) return; // shutting down: stays claimed
        outcome = {
          ...record,
          status: result.delivered ? 'delivered' : 'failed',
          webhook: { attempts: result.attempts, status: result.status, error: result.error },
        };
        if (result.refused)
          this.logger.error({ ...log, ...outcome.webhook }, 'alert webhook refused: its destination is not a public address');
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
