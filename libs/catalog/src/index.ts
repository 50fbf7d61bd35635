/**
 * `@tally/catalog`: tenants, customers, meters, plans, subscriptions, alert rules and API keys, stored
 * in NATS JetStream KV (Node-only data access). Writes go through `CatalogStore` / `ApiKeyStore` with
 * optimistic concurrency; hot paths read `CatalogProjection` / `ApiKeyStore.resolve`, in memory and kept
 * current by KV watches.
 */
export {
  API_KEY_ROLES,
  CUSTOMER_ID_MAX_LENGTH,
  DATASET_KINDS,
  DATASET_NAME_PATTERN,
  ENTITY_ID_PATTERN,
  alertRuleSchema,
  alertThresholdSchema,
  apiKeyRecordSchema,
  couponSchema,
  creditEntrySchema,
  creditTimerEntrySchema,
  storedCreditEntrySchema,
  customerBillingSchema,
  customerSchema,
  customerTimeZone,
  taxRateSchema,
  type CatalogCoupon,
  type CreditLedgerEntry,
  type CreditTimerLedgerEntry,
  type UnitGrantLedgerEntry,
  type CustomerBilling,
  datasetSchema,
  meterInputSchema,
  meterSchema,
  parseEntity,
  planSchema,
  subscriptionSchema,
  subscriptionChangeSchema,
  SUBSCRIPTION_ACTIONS,
  type SubscriptionAction,
  type SubscriptionChange,
  tenantSchema,
  type AlertRule,
  type AlertRuleInput,
  type AlertThreshold,
  type ApiKeyRecord,
  type ApiKeyRole,
  type Customer,
  type CustomerInput,
  type Dataset,
  type DatasetInput,
  type DatasetKind,
  type Meter,
  type MeterInput,
  type Plan,
  type PlanInput,
  type Subscription,
  type SubscriptionInput,
  type Tenant,
  type TenantInput,
} from './entities';
export { catalogKeys, decodeCustomerId, encodeCustomerId, parseCatalogKey, type ParsedKey } from './keys';
export { CATALOG_HISTORY, deleteCatalogBuckets, type Versioned, type WriteOptions } from './kv';
export { KvWatcher, watchCatalog, type KvWatcherOptions } from './kv-watcher';
export { CatalogStore, type CatalogStoreOptions } from './catalog-store';
export { CatalogProjection, type CatalogProjectionOptions, type CatalogChange } from './catalog-projection';
export {
  API_KEY_PATTERN,
  ApiKeyStore,
  apiKeyId,
  generateApiKey,
  type ApiKeyPrincipal,
  type ApiKeyStoreOptions,
} from './api-key-store';
export {
  billingKeys,
  ClosedPeriodView,
  deleteBillingBucket,
  openBillingBucket,
  parseClosedKey,
  type ClosedPeriod,
} from './closed-periods';
export * from './webhook-destination';
export {
  SubscriptionLifecycleService,
  cancellation,
  changePlanSchema,
  continuationId,
  createSubscriptionSchema,
  creation,
  effectiveDateOf,
  pause,
  pauseSchema,
  planChange,
  resumption,
  whenSchema,
  type LifecycleClock,
  type LifecycleResult,
  type LifecycleStorePort,
  type LifecycleWrites,
  type When,
} from './subscription-lifecycle';
export { CreditLedgerEntries, type CreditLedgerStorePort } from './credit-ledger-entries';
export { appendOnlyCredits } from './credit-ledger-rules';
