import type { ApiKeyStore, CatalogProjection, CatalogStore } from '@tally/catalog';

/** The catalog operations the API and `catalog apply` use (implemented by `CatalogStore`). */
export type CatalogPort = Pick<
  CatalogStore,
  | 'getTenant'
  | 'putTenant'
  | 'getCustomer'
  | 'listCustomers'
  | 'putCustomer'
  | 'deleteCustomer'
  | 'getMeter'
  | 'listMeters'
  | 'putMeter'
  | 'deleteMeter'
  | 'getMeterVersion'
  | 'listMeterVersions'
  | 'getPlan'
  | 'listPlans'
  | 'putPlan'
  | 'deletePlan'
  | 'getSubscription'
  | 'listSubscriptions'
  | 'putSubscription'
  | 'deleteSubscription'
  | 'getAlertRule'
  | 'listAlertRules'
  | 'putAlertRule'
  | 'deleteAlertRule'
>;

/** API key management (implemented by `ApiKeyStore`). */
export type ApiKeyPort = Pick<ApiKeyStore, 'create' | 'list' | 'revokeById'>;

/** The in-memory catalog this instance serves hot paths from (implemented by `CatalogProjection`). */
export type CatalogCachePort = Pick<CatalogProjection, 'getTenant' | 'listCustomers' | 'listMeters' | 'revision'>;
