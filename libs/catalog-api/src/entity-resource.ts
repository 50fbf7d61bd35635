import type { Versioned, WriteOptions } from '@tally/catalog';
import { type FieldIssue, NotFoundError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import type { ZodTypeAny } from 'zod';
import { paginate, type Page, type PageRequest } from './list-query';
import type { WriteConditions } from './preconditions';
import type { DecodedWrite } from './write-body';

/** How one kind of tenant-owned entity is stored (a slice of `CatalogStore`). */
export interface EntityAdapter<T, F = object> {
  /** For messages: `Customer`, `Meter`, ... */
  what: string;
  /** The field that names the entity: `id`, or `key` for meters. */
  idField: string;
  idOf(value: T): string;
  /** The input schema the store validates writes with. */
  schema: ZodTypeAny;
  get(tenant: string, id: string): Promise<Versioned<T> | undefined>;
  list(tenant: string, filter: F): Promise<Array<Versioned<T>>>;
  put(input: Record<string, unknown>, options: WriteOptions): Promise<Versioned<T>>;
  delete(tenant: string, id: string, options: WriteOptions): Promise<void>;
  /** What a client sees of a stored entity (e.g. without its write-only secrets); the entity itself by default. */
  present?(value: T): T;
  /**
   * Checks that need I/O, after the schema passed and before the write (e.g. where a webhook URL
   * resolves to); may complete the input from the stored entity (a write-only secret the client
   * could not send back). Throws ValidationFailedError.
   */
  prepare?(input: Record<string, unknown>, existing: T | undefined): Promise<Record<string, unknown>>;
}

/**
 * Read, list, write and delete for one entity kind, always inside one tenant: the tenant is a
 * parameter of every method (the API key's), never part of what the client sends.
 */
export class EntityResource<T, F = object> {
  constructor(readonly adapter: EntityAdapter<T, F>) {}

  get idField(): string {
    return this.adapter.idField;
  }

  /** Every schema issue of an input, without writing it. */
  validate(input: Record<string, unknown>): FieldIssue[] {
    const parsed = this.adapter.schema.safeParse(input);
    return parsed.success ? [] : fieldIssuesFromZod(parsed.error);
  }

  async get(tenant: string, id: string): Promise<Versioned<T>> {
    return this.presented(await this.stored(tenant, id));
  }

  async list(tenant: string, page: PageRequest, filter: F): Promise<Page<Versioned<T>>> {
    const all = await this.adapter.list(tenant, filter);
    const listed = paginate(all, (v) => this.adapter.idOf(v.value), page);
    return { ...listed, items: listed.items.map((v) => this.presented(v)) };
  }

  async put(tenant: string, write: DecodedWrite): Promise<Versioned<T>> {
    const id = String(write.input[this.adapter.idField]);
    const input = this.adapter.prepare
      ? await this.adapter.prepare(write.input, (await this.adapter.get(tenant, id))?.value)
      : write.input;
    return this.presented(await this.adapter.put(input, await this.writeOptions(tenant, id, write.conditions)));
  }

  private async stored(tenant: string, id: string): Promise<Versioned<T>> {
    const found = await this.adapter.get(tenant, id);
    if (!found) throw new NotFoundError(this.adapter.what, id);
    return found;
  }

  private presented(v: Versioned<T>): Versioned<T> {
    return this.adapter.present ? { ...v, value: this.adapter.present(v.value) } : v;
  }

  async delete(tenant: string, id: string, conditions: WriteConditions): Promise<void> {
    await this.adapter.delete(tenant, id, await this.writeOptions(tenant, id, conditions));
  }

  /** `If-Match: *` becomes "whatever revision it has now", so a concurrent delete still conflicts. */
  private async writeOptions(tenant: string, id: string, conditions: WriteConditions): Promise<WriteOptions> {
    if (!conditions.mustExist) return { expectedRevision: conditions.expectedRevision };
    return { expectedRevision: (await this.stored(tenant, id)).revision };
  }
}
