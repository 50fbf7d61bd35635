import { createHash, randomBytes } from 'node:crypto';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { NotFoundError } from '@tally/errors';
import type { NatsConnection, NatsNames } from '@tally/nats';
import {
  API_KEY_ROLES,
  type ApiKeyRecord,
  apiKeyRecordSchema,
  type ApiKeyRole,
  parseEntity,
} from './entities';
import { getJson, isRevisionConflict, openBucket, revisionConflict } from './kv';
import { KvWatcher, type KvWatcherOptions } from './kv-watcher';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_LENGTH = 32;
/** `tally_<role>_<32 base62>`: the role is visible so that a leaked key's power is obvious. */
export const API_KEY_PATTERN = /^tally_(ingest|query|admin)_[0-9A-Za-z]{32}$/;

/** What a valid key grants. `keyId` (the hash) names the key in logs without revealing it. */
export interface ApiKeyPrincipal {
  tenant: string;
  role: ApiKeyRole;
  keyId: string;
}

/** A fresh random key for `role` (about 190 bits of entropy). */
export function generateApiKey(role: ApiKeyRole): string {
  let secret = '';
  while (secret.length < SECRET_LENGTH) {
    for (const byte of randomBytes(48)) {
      // 248 = 4 × 62: rejecting the top 8 byte values keeps every character equally likely.
      if (byte < 248 && secret.length < SECRET_LENGTH) secret += BASE62[byte % 62];
    }
  }
  return `tally_${role}_${secret}`;
}

/** The id a key is stored under: lower-case hex SHA-256 of the whole key. The key itself is never stored. */
export function apiKeyId(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export type ApiKeyStoreOptions = Pick<KvWatcherOptions, 'onError'> & { now?: () => Date };

/**
 * API keys, stored hashed in their own bucket. `resolve` is synchronous: it runs on every request, so
 * it reads an in-memory map that a watch on the bucket keeps current (a key created or revoked on any
 * instance takes effect everywhere within moments; on this instance, immediately).
 */
export class ApiKeyStore {
  private readonly keys = new Map<string, ApiKeyRecord>();
  private watcher!: KvWatcher;

  private constructor(
    private readonly kv: KV,
    private readonly now: () => Date,
  ) {}

  /** Opens (creating if needed) the bucket and resolves once every stored key is in memory. */
  static async open(
    nc: NatsConnection,
    names: NatsNames,
    options: ApiKeyStoreOptions = {},
  ): Promise<ApiKeyStore> {
    const store = new ApiKeyStore(
      await openBucket(nc, names.apiKeysBucket),
      options.now ?? (() => new Date()),
    );
    store.watcher = KvWatcher.start(store.kv, (entry) => store.apply(entry), {
      onError: options.onError,
      connectionClosed: () => nc.isClosed(),
    });
    try {
      await store.watcher.ready();
    } catch (error) {
      await store.watcher.stop();
      throw error;
    }
    return store;
  }

  /** Resolves once every stored key is in memory (already the case when `open` has resolved). */
  ready(): Promise<void> {
    return this.watcher.ready();
  }

  /** Creates a key. The raw `key` is returned only here: show it once, it cannot be recovered. */
  async create(
    tenant: string,
    role: ApiKeyRole,
    name: string,
  ): Promise<{ key: string; id: string; record: ApiKeyRecord }> {
    const record = parseEntity(
      apiKeyRecordSchema,
      { tenant, role, name, createdAt: this.now().toISOString() },
      'API key',
    );
    const key = generateApiKey(record.role);
    const id = apiKeyId(key);
    await this.kv.create(id, JSON.stringify(record));
    this.keys.set(id, record);
    return { key, id, record };
  }

  /** The tenant and role of a valid, unrevoked key; undefined otherwise. Synchronous, no I/O. */
  resolve(key: string): ApiKeyPrincipal | undefined {
    if (typeof key !== 'string' || !API_KEY_PATTERN.test(key)) return undefined;
    const id = apiKeyId(key);
    const record = this.keys.get(id);
    if (!record || record.revoked) return undefined;
    return { tenant: record.tenant, role: record.role, keyId: id };
  }

  /** Revokes a key given the raw key. */
  revoke(key: string): Promise<void> {
    return this.revokeById(apiKeyId(key));
  }

  /** Revokes a key by its id (as listed by `list`), for operators who no longer have the key. */
  async revokeById(id: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = /^[0-9a-f]{64}$/.test(id) ? await getJson<ApiKeyRecord>(this.kv, id) : undefined;
      if (!current) throw new NotFoundError('API key', id.slice(0, 12));
      if (current.value.revoked) return;
      const revoked: ApiKeyRecord = { ...current.value, revoked: true };
      try {
        await this.kv.update(id, JSON.stringify(revoked), current.revision);
        this.keys.set(id, revoked);
        return;
      } catch (error) {
        if (!isRevisionConflict(error)) throw error;
        if (attempt >= 5) throw revisionConflict('API key', id.slice(0, 12), error);
      }
    }
  }

  /** A tenant's keys (ids and records, never the keys), from memory. */
  list(tenant: string): Array<{ id: string; record: ApiKeyRecord }> {
    return [...this.keys.entries()]
      .filter(([, r]) => r.tenant === tenant)
      .map(([id, record]) => ({ id, record }));
  }

  async close(): Promise<void> {
    await this.watcher.stop();
  }

  private apply(entry: KvWatchEntry): void {
    if (entry.operation !== 'PUT') {
      this.keys.delete(entry.key);
      return;
    }
    const record = entry.json<ApiKeyRecord>();
    if (!(API_KEY_ROLES as readonly string[]).includes(record.role)) return; // not a key this version knows
    this.keys.set(entry.key, record);
  }
}
