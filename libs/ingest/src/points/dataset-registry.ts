import type { Dataset } from '@tally/catalog';

/** Port: the dataset declaration the gateway applies to a request's points. */
export interface DatasetRegistry {
  /**
   * The declaration of `tenant`'s dataset `name`. A dataset nobody declared is created as an
   * `analytics` dataset with the default sampling, so Workers code that writes to a new binding works
   * without any set-up, exactly as on Cloudflare.
   */
  resolve(tenant: string, name: string): Promise<Dataset>;
}

/** The parts of `CatalogProjection` and `CatalogStore` the registry uses. */
export interface DatasetCatalog {
  getDataset(tenant: string, name: string): Dataset | undefined;
}
export interface DatasetCreator {
  ensureDataset(input: Dataset): Promise<{ value: Dataset }>;
}

/**
 * Reads declarations from the in-memory catalog cache (no round trip on the hot path) and creates a
 * missing one in the catalog bucket once. Until the cache's watch delivers that creation (typically
 * milliseconds), the declaration just created is remembered here, so a burst of first writes to a
 * new dataset creates it once, not once per request.
 */
export class CatalogDatasetRegistry implements DatasetRegistry {
  private readonly created = new Map<string, Promise<Dataset>>();

  constructor(
    private readonly cache: DatasetCatalog,
    private readonly store: DatasetCreator,
  ) {}

  async resolve(tenant: string, name: string): Promise<Dataset> {
    const cached = this.cache.getDataset(tenant, name);
    if (cached) {
      if (this.created.size) this.created.delete(`${tenant}\u0000${name}`);
      return cached;
    }
    const key = `${tenant}\u0000${name}`;
    let pending = this.created.get(key);
    if (!pending) {
      pending = this.store.ensureDataset({ tenant, name, kind: 'analytics' }).then((stored) => stored.value);
      this.created.set(key, pending);
      // A failed creation (catalog unavailable) must not stick: the next request tries again.
      void pending.catch(() => this.created.delete(key));
    }
    return pending;
  }
}
