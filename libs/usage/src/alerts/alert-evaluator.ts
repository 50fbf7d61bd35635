import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AlertRule, CatalogProjection } from '@tally/catalog';
import { AlertDispatcher, alertId, PeriodicRun } from '@tally/alerts';
import type { Logger } from '@tally/observability';
import { compareDecimals } from '@tally/pricing';
import { resolveSeries } from '@tally/metering';
import { currentPeriod, type UsagePeriod } from '@tally/billing-periods';
import { MeterQueryEndpoint } from '../endpoints/meter-query.endpoint';
import { UsageCatalog } from '../usage-catalog';
import { USAGE_CATALOG_CACHE, USAGE_CLOCK, USAGE_LOGGER, USAGE_OPTIONS } from '../usage.tokens';
import type { UsageOptions } from '../usage-options';
import { type AlertMessage, alertKey, thresholdValue } from './alert-message';

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
 * threshold) once through the alert path (`AlertDispatcher` of `@tally/alerts`, which progressive
 * billing's amount thresholds go through too): claimed once in the alert-state bucket, published on
 * `<prefix>.alerts.<tenant>` and, when the rule has a `webhookUrl`, sent to a signed webhook retried
 * with back-off. An instance that dies between claiming and delivering leaves a `claimed` record; after
 * `alertClaimTimeoutMs` another run delivers it (with the same alert id), so an alert is never lost.
 */
@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly runs: PeriodicRun<AlertRunReport>;

  constructor(
    @Inject(MeterQueryEndpoint) private readonly meterQueries: MeterQueryEndpoint,
    @Inject(UsageCatalog) private readonly usage: UsageCatalog,
    @Inject(AlertDispatcher) private readonly alerts: AlertDispatcher,
    @Inject(USAGE_CATALOG_CACHE) private readonly catalog: CatalogProjection,
    @Inject(USAGE_LOGGER) private readonly logger: Logger,
    @Inject(USAGE_OPTIONS) options: UsageOptions,
    @Inject(USAGE_CLOCK) private readonly now: () => Date,
  ) {
    this.runs = new PeriodicRun(
      () => this.evaluate(),
      options.alertIntervalMs,
      (error) => this.logger.error({ err: error }, 'alert evaluation failed'),
    );
  }

  onApplicationBootstrap(): void {
    this.runs.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runs.stop();
    // Pending webhook retries stop; their records stay `claimed` and are taken over later.
    await this.alerts.close();
  }

  /** Evaluates every rule once (runs do not overlap: a call during a run waits for that run). */
  runOnce(): Promise<AlertRunReport> {
    return this.runs.runOnce();
  }

  /** Resolves when every webhook delivery started so far has finished (tests). */
  idle(): Promise<void> {
    return this.alerts.idle();
  }

  private async evaluate(): Promise<AlertRunReport> {
    const now = this.now();
    const report: AlertRunReport = { rules: 0, crossed: 0, fired: 0 };
    this.alerts.forgetEnded(now);
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

  /** Claims and delivers one crossing (the alert path); false when it had fired already. */
  private fire(crossing: Crossing, now: Date): Promise<boolean> {
    const key = alertKey(crossing.rule, crossing.customer, crossing.period.from);
    const { webhookUrl, webhookSecret } = crossing.rule;
    return this.alerts.fire(
      key,
      this.message(crossing, key, now),
      crossing.period.to.getTime(),
      webhookUrl ? { webhook: { url: webhookUrl, secret: webhookSecret } } : {},
      now,
    );
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
}
