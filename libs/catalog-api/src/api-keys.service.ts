import { API_KEY_ROLES, type ApiKeyRecord, type ApiKeyRole } from '@tally/catalog';
import { NotFoundError, UnsupportedMediaTypeError, ValidationFailedError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import { z } from 'zod';
import type { ApiKeyPort } from './ports';

/** A key as listed: its id (the SHA-256 of the key) and record, never the key itself. */
export interface ApiKeyView extends ApiKeyRecord {
  id: string;
  revoked: boolean;
}

/** A new key: the only time the raw key is ever shown. */
export interface CreatedApiKey extends ApiKeyView {
  key: string;
}

const createKeySchema = z
  .object({
    role: z.enum(API_KEY_ROLES),
    name: z.string().min(1).max(128).optional(),
  })
  .strict();

/** Default name of a key created without one. */
export const defaultKeyName = (role: ApiKeyRole): string => `${role} key`;

/** API keys of the caller's tenant. Another tenant's key id behaves exactly like one that does not exist. */
export class ApiKeysService {
  constructor(private readonly keys: ApiKeyPort) {}

  async create(tenant: string, body: unknown): Promise<CreatedApiKey> {
    if (Buffer.isBuffer(body)) throw new UnsupportedMediaTypeError(undefined, ['application/json']);
    const parsed = createKeySchema.safeParse(body ?? {});
    if (!parsed.success) throw new ValidationFailedError(fieldIssuesFromZod(parsed.error), 'Invalid API key');
    const { role, name = defaultKeyName(parsed.data.role) } = parsed.data;
    const { key, id, record } = await this.keys.create(tenant, role, name);
    return { key, ...view(id, record) };
  }

  list(tenant: string): { items: ApiKeyView[] } {
    const items = this.keys
      .list(tenant)
      .map(({ id, record }) => view(id, record))
      .sort((a, b) =>
        a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1,
      );
    return { items };
  }

  async revoke(tenant: string, id: string): Promise<void> {
    if (!this.keys.list(tenant).some((k) => k.id === id)) throw new NotFoundError('API key', id.slice(0, 12));
    await this.keys.revokeById(id);
  }
}

function view(id: string, record: ApiKeyRecord): ApiKeyView {
  return { id, ...record, revoked: record.revoked === true };
}
