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
export {
  UsageService,
  type CurrentUsageResult,
  type CustomerUsageResult,
  type EntitlementResult,
  type MeterQueryRequest,
  type MeterQueryResult,
  type MeterQueryRow,
  type TopCustomersResult,
  type UsageSource,
} from './usage.service';
export { AlertEvaluator, type AlertRunReport } from './alerts/alert-evaluator';
export type { AlertMessage } from './alerts/alert-message';
export { SIGNATURE_HEADER, signWebhook, verifyWebhook } from './alerts/webhook';
export { entitlementLimit, isAllowed, type EntitlementLimit, type LimitSource } from './entitlements';
export { currentPeriod, type UsagePeriod } from './periods';
export { QueryTooExpensiveError, RangeTooLargeError, ResultTooLargeError } from './errors';
