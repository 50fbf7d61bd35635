import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import { ConflictError } from '@tally/errors';
import type { NatsConnection, NatsNames } from '@tally/nats';

/** Revisions kept per key: enough to see what an operator changed recently. */
export const CATALOG_HISTORY = 5;

/** A stored value with the revision to pass back as `expectedRevision` when updating it. */
export interface Versioned<T> {
  value: T;
  revision: number;
}

export interface WriteOptions {
  /**
   * Optimistic concurrency: `0` = create, fail if it exists; `n` = fail unless the stored revision is
   * still `n`; absent = write whatever is stored.
   */
  expectedRevision?: number;
}

/** Creates the bucket if needed (several services may race to do so at start-up), else binds to it. */
export async function openBucket(nc: NatsConnection, bucket: string): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    return await kvm.create(bucket, { history: CATALOG_HISTORY });
  } catch (error) {
    // Exists with other settings (e.g. created by an older version): use it as it is.
    if (error instanceof JetStreamApiError) return kvm.open(bucket);
    throw error;
  }
}

/** Removes the catalog and API-key buckets (tests; tearing down a prefix). */
export async function deleteCatalogBuckets(nc: NatsConnection, names: NatsNames): Promise<void> {
  const kvm = new Kvm(nc);
  for (const bucket of [names.catalogBucket, names.apiKeysBucket]) {
    try {
      await (await kvm.open(bucket, { bindOnly: true })).destroy();
    } catch {
      // Not there: nothing to delete.
    }
  }
}

export function isRevisionConflict(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

export function revisionConflict(what: string, id: string, cause?: unknown): ConflictError {
  return new ConflictError(
    'REVISION_CONFLICT',
    `${what} '${id}' was changed (or created) by someone else; read it again and retry with its current revision`,
    { cause },
  );
}

/** The stored value, or undefined when the key never existed or was deleted. */
export function liveEntry(entry: KvEntry | null): KvEntry | undefined {
  return entry && entry.operation === 'PUT' ? entry : undefined;
}

export async function getJson<T>(kv: KV, key: string): Promise<Versioned<T> | undefined> {
  const entry = liveEntry(await kv.get(key));
  return entry ? { value: entry.json<T>(), revision: entry.revision } : undefined;
}

/**
 * Writes `value` under `key` honouring `expectedRevision`, translating JetStream's "wrong last
 * sequence" into `ConflictError('REVISION_CONFLICT')` (HTTP 409). Returns the new revision.
 */
export async function writeJson(
  kv: KV,
  key: string,
  value: unknown,
  options: WriteOptions,
  what: string,
  id: string,
): Promise<number> {
  const data = JSON.stringify(value);
  try {
    if (options.expectedRevision === undefined) return await kv.put(key, data);
    if (options.expectedRevision === 0) return await kv.create(key, data);
    return await kv.update(key, data, options.expectedRevision);
  } catch (error) {
    if (isRevisionConflict(error)) throw revisionConflict(what, id, error);
    throw error;
  }
}

export async function listKeys(kv: KV, filter: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of await kv.keys(filter)) keys.push(k);
  return keys.sort();
}

/** The live values under `filter` (one `get` per key, 32 in flight), in key order. */
export async function listJson<T>(kv: KV, filter: string): Promise<Array<Versioned<T>>> {
  const keys = await listKeys(kv, filter);
  const out: Array<Versioned<T> | undefined> = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      out[i] = await getJson<T>(kv, keys[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, keys.length) }, worker));
  return out.filter((v): v is Versioned<T> => v !== undefined);
}
