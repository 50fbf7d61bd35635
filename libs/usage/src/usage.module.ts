import { InvoiceLedger } from '@tally/billing';
import { CreditBalanceService } from '@tally/billing-api';
import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { ClickHouse } from '@tally/clickhouse';
import type { NatsConnection, NatsNames } from '@tally/nats';
import { PRINCIPAL_RESOLVER } from '@tally/nest-kit';
import { createLogger, type Logger } from '@tally/observability';
import { AlertEvaluator } from './alerts/alert-evaluator';
import { AlertDispatcher, AlertStateStore } from '@tally/alerts';
import { UsageController } from './http/usage.controller';
import { QueryRunner } from './query-runner';
import { RollupCoverage } from './rollups/rollup-coverage';
import {
  USAGE_CATALOG_CACHE,
  USAGE_CREDITS,
  USAGE_CLICKHOUSE,
  USAGE_CLOCK,
  USAGE_DEPENDENCIES,
  USAGE_LOGGER,
  USAGE_NATS,
  USAGE_NATS_NAMES,
  USAGE_OPTIONS,
  type UsageDependencies,
} from './usage.tokens';
import { CompletenessEndpoint } from './endpoints/completeness.endpoint';
import { CurrentUsageEndpoint } from './endpoints/current-usage.endpoint';
import { CustomerUsageEndpoint } from './endpoints/customer-usage.endpoint';
import { MeterQueryEndpoint } from './endpoints/meter-query.endpoint';
import { UsagePlanner } from './planner/usage-planner';
import { UsageCatalog } from './usage-catalog';
import { USAGE_DEFAULTS, type UsageOptions, usageOptionsFromConfig } from './usage-options';

/** Closes what the module opened itself (the app closes what it passed in). */
@Injectable()
class UsageRuntime implements OnApplicationShutdown {
  constructor(@Inject(RollupCoverage) private readonly coverage: RollupCoverage) {}

  async onApplicationShutdown(): Promise<void> {
    await this.coverage.stop();
  }
}

const fromDependencies = <T>(token: symbol, pick: (d: UsageDependencies) => T): Provider => ({
  provide: token,
  useFactory: pick,
  inject: [USAGE_DEPENDENCIES],
});

const PROVIDERS: Provider[] = [
  fromDependencies(USAGE_CLICKHOUSE, (d) => d.clickhouse),
  fromDependencies(USAGE_CATALOG_CACHE, (d) => d.cache),
  fromDependencies(USAGE_NATS, (d) => d.nc),
  fromDependencies(USAGE_NATS_NAMES, (d) => d.names),
  fromDependencies(USAGE_LOGGER, (d) => (d.logger ?? createLogger('query')).child({ component: 'usage' })),
  fromDependencies(USAGE_CLOCK, (d) => d.now ?? (() => new Date())),
  fromDependencies(
    USAGE_CREDITS,
    (d) =>
      new CreditBalanceService(
        d.cache,
        new InvoiceLedger(d.clickhouse),
        d.now ? () => (d.now as () => Date)().getTime() : undefined,
      ),
  ),
  fromDependencies(USAGE_OPTIONS, (d): UsageOptions => ({
    ...USAGE_DEFAULTS,
    ...usageOptionsFromConfig(d.config ?? {}),
    ...d.options,
  })),
  {
    provide: QueryRunner,
    useFactory: (ch: ClickHouse, o: UsageOptions) => new QueryRunner(ch, o.queryTimeoutSeconds),
    inject: [USAGE_CLICKHOUSE, USAGE_OPTIONS],
  },
  {
    provide: RollupCoverage,
    useFactory: async (ch: ClickHouse, logger: Logger, o: UsageOptions) => {
      const coverage = new RollupCoverage(ch, logger, o.rollupCheckIntervalMs);
      if (o.rollups) await coverage.start();
      return coverage;
    },
    inject: [USAGE_CLICKHOUSE, USAGE_LOGGER, USAGE_OPTIONS],
  },
  {
    provide: AlertDispatcher,
    useFactory: (nc: NatsConnection, names: NatsNames, logger: Logger, o: UsageOptions) =>
      new AlertDispatcher(nc, (tenant) => names.alertsSubject(tenant), new AlertStateStore(nc, names), logger, {
        claimTimeoutMs: o.alertClaimTimeoutMs,
        webhook: { maxAttempts: o.webhookMaxAttempts, backoffMs: o.webhookBackoffMs, timeoutMs: o.webhookTimeoutMs },
        webhookAllow: o.webhookAllow,
      }),
    inject: [USAGE_NATS, USAGE_NATS_NAMES, USAGE_LOGGER, USAGE_OPTIONS],
  },
  UsageCatalog,
  UsagePlanner,
  MeterQueryEndpoint,
  CustomerUsageEndpoint,
  CurrentUsageEndpoint,
  CompletenessEndpoint,
  AlertEvaluator,
  UsageRuntime,
];

/**
 * The usage API (`/v1/meters/:key/query`, `/v1/meters/:key/top-customers`, `/v1/customers/:id/usage`,
 * `/current-usage`, `/entitlements/:meter`, `/v1/usage/completeness`) and the alert evaluator, for `apps/query`:
 *
 *     imports: [UsageModule.register(deps)]   // { clickhouse, cache, nc, names, keys?, logger?, config? }
 *
 * The module's own classes inject the `USAGE_*` tokens, provided from those dependencies.
 */
@Module({})
export class UsageModule {
  static register(dependencies: UsageDependencies): DynamicModule {
    return {
      module: UsageModule,
      controllers: [UsageController],
      providers: [
        { provide: USAGE_DEPENDENCIES, useValue: dependencies },
        // Without `keys`, the app's global PRINCIPAL_RESOLVER authenticates (as in apps/query).
        ...(dependencies.keys ? [{ provide: PRINCIPAL_RESOLVER, useValue: dependencies.keys }] : []),
        ...PROVIDERS,
      ],
      exports: [
        UsageCatalog,
        MeterQueryEndpoint,
        CustomerUsageEndpoint,
        CurrentUsageEndpoint,
        AlertEvaluator,
      ],
    };
  }
}
