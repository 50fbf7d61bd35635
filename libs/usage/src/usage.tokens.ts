import type { CatalogProjection } from '@tally/catalog';
import type { ClickHouse } from '@tally/clickhouse';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { PrincipalResolver } from '@tally/nest-kit';
import type { Logger } from '@tally/observability';
import type { UsageOptions } from './usage-options';

/**
 * What `UsageModule` needs from the app that imports it (`apps/query`'s `QueryDependencies` has this
 * shape, so the app passes its own). The app owns these (opens them at start-up, closes them at
 * shutdown); the module only uses them.
 */
export interface UsageDependencies {
  /** ClickHouse handle whose `database` holds `events` and `usage_hourly`. */
  clickhouse: ClickHouse;
  /** The catalog projection (tenants, customers, meters, plans, subscriptions, alert rules), kept current by a KV watch. */
  cache: CatalogProjection;
  /** NATS connection: alert messages and the alert-state bucket. */
  nc: NatsConnection;
  /** Names derived from the app's NATS prefix (`natsNames(config.natsPrefix)`). */
  names: NatsNames;
  /**
   * Resolves `Authorization: Bearer` keys (the catalog's `ApiKeyStore`). When absent, the app must
   * provide `PRINCIPAL_RESOLVER` globally.
   */
  keys?: PrincipalResolver;
  /** Default: a `query` pino logger. */
  logger?: Logger;
  /** The app's config: `usageConfigSpec` keys found in it set the options. */
  config?: object;
  /** Options set in code (win over `config`). */
  options?: Partial<UsageOptions>;
  /** The clock of current periods and alerts; tests pin it. */
  now?: () => Date;
}

/** DI tokens the module provides from `UsageDependencies` (inject them in the module's own classes). */
export const USAGE_DEPENDENCIES = Symbol('USAGE_DEPENDENCIES');
export const USAGE_CLICKHOUSE = Symbol('USAGE_CLICKHOUSE');
export const USAGE_CATALOG_CACHE = Symbol('USAGE_CATALOG_CACHE');
/** A customer's credit balance today (`@tally/billing-api`'s `CreditBalanceService`): what entitlements show. */
export const USAGE_CREDITS = Symbol('USAGE_CREDITS');
export const USAGE_NATS = Symbol('USAGE_NATS');
export const USAGE_NATS_NAMES = Symbol('USAGE_NATS_NAMES');
export const USAGE_LOGGER = Symbol('USAGE_LOGGER');
export const USAGE_OPTIONS = Symbol('USAGE_OPTIONS');
export const USAGE_CLOCK = Symbol('USAGE_CLOCK');
