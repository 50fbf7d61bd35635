/**
 * `@tally/catalog-api`: the catalog's REST API (Nest module, controllers, services) and catalog as code
 * (`tally catalog apply/export`). Node-only; the host app provides nest-kit's `PRINCIPAL_RESOLVER`.
 */
export { CatalogApiModule, type CatalogApiDependencies } from './catalog-api.module';
export { CatalogService, withRevision, type CatalogCacheView } from './catalog.service';
export { ApiKeysService, defaultKeyName, type ApiKeyView, type CreatedApiKey } from './api-keys.service';
export { EntityResource, type EntityAdapter } from './entity-resource';
export { BEARER_AUTH } from './openapi';
export { conditionsFromHeaders, etagOf, mergeConditions, type WriteConditions } from './preconditions';
export { decodeWrite, type DecodedWrite, type WriteScope } from './write-body';
export {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  paginate,
  parseListQuery,
  type Page,
  type PageRequest,
} from './list-query';
export type { ApiKeyPort, CatalogCachePort, CatalogPort } from './ports';
export {
  CATALOG_SECTIONS,
  applyCatalogPlan,
  exportCatalog,
  parseCatalogDocument,
  planCatalogApply,
  renderCatalogYaml,
  type AppliedChange,
  type CatalogApplyPlan,
  type CatalogDocument,
  type CatalogSection,
  type ChangeAction,
  type EntityKind,
  type PlannedChange,
} from './catalog-as-code';
