/**
 * `@tally/usage`: the usage API of `apps/query` (meter queries, customer usage per period and day,
 * top customers, current-period usage, entitlement checks), the hourly roll-ups it answers from when
 * they are exact, and the alert evaluator. Node-only (ClickHouse, NATS, NestJS).
 */
export { UsageModule } from './usage.module';
export {
  USAGE_CATALOG_CACHE,
  USAGE_CLICKHOUSE,
  USAGE_CLOCK,
  USAGE_DEPENDENCIES,
  USAGE_LOGGER,
  USAGE_NATS,
  USAGE_NATS_NAMES,
  USAGE_OPTIONS,
  type UsageDependencies,
} from './usage.tokens';
export { USAGE_DEFAULTS, usageConfigSpec, usageOptionsFromConfig, type UsageOptions } from './usage-options';
export { UsageCatalog } from './usage-catalog';
export { UsagePlanner, type Plan, type SeriesPlan } from './planner/usage-planner';
export { MeterQueryEndpoint } from './endpoints/meter-query.endpoint';
export { CustomerUsageEndpoint } from './endpoints/customer-usage.endpoint';
export { CurrentUsageEndpoint } from './endpoints/current-usage.endpoint';
export { CompletenessEndpoint } from './endpoints/completeness.endpoint';
export type {
  CompletenessResult,
  CurrentUsageResult,
  CustomerUsageResult,
  EntitlementResult,
  MeterQueryRequest,
  MeterQueryResult,
  MeterQueryRow,
  TopCustomersResult,
  UsageSource,
} from './usage.types';
export { AlertEvaluator, type AlertRunReport } from './alerts/alert-evaluator';
export type { AlertMessage } from './alerts/alert-message';
export { entitlementLimit, isAllowed, type EntitlementLimit, type LimitSource } from './entitlements';
export { QueryTooExpensiveError, RangeTooLargeError, ResultTooLargeError } from './errors';
export { seriesValue } from './rollups/series-value';
export { meterUsesRollup } from './rollups/eligibility';
export { RollupCoverage } from './rollups/rollup-coverage';
