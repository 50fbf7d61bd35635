import { type FieldIssue, UnsupportedMediaTypeError, ValidationFailedError } from '@tally/errors';
import { conditionsFromHeaders, mergeConditions, type WriteConditions } from './preconditions';

/** A decoded PUT: the entity input (tenant and id filled in from the key and the path) and its preconditions. */
export interface DecodedWrite {
  input: Record<string, unknown>;
  conditions: WriteConditions;
}

export interface WriteScope {
  /** The key's tenant: the only tenant a request may touch. */
  tenant: string;
  /** Whether the entity has a `tenant` field (every entity but the tenant itself). */
  hasTenantField: boolean;
  /** The body field that names the entity (`id`, or `key` for meters) and its value from the path. */
  idField: string;
  id: string;
  /** Schema issues of the input, reported together with a tenant or id mismatch. */
  validate?: (input: Record<string, unknown>) => FieldIssue[];
}

/**
 * Turns a request body into an entity input. The tenant and the id come from the key and the URL; a
 * body may repeat them (a GET response sent back as it is) but not contradict them, so a typo or a
 * copy-paste from another tenant is refused instead of silently writing somewhere else. `revision`
 * (read-only, echoed by reads) is dropped and `expectedRevision` becomes a precondition.
 */
export function decodeWrite(
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  scope: WriteScope,
): DecodedWrite {
  if (Buffer.isBuffer(body)) {
    const contentType = headers['content-type'];
    throw new UnsupportedMediaTypeError(Array.isArray(contentType) ? contentType[0] : contentType, [
      'application/json',
    ]);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationFailedError([
      { field: '', code: 'INVALID_TYPE', message: 'the request body must be a JSON object' },
    ]);
  }
  const input: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  const conditions = mergeConditions(conditionsFromHeaders(headers), input.expectedRevision);
  delete input.expectedRevision;
  delete input.revision;

  const issues: FieldIssue[] = [];
  if (scope.hasTenantField) {
    if (input.tenant !== undefined && input.tenant !== scope.tenant) {
      issues.push({
        field: 'tenant',
        code: 'TENANT_MISMATCH',
        message: `is not the tenant of this API key ('${scope.tenant}'); leave it out`,
      });
    }
    input.tenant = scope.tenant;
  }
  if (input[scope.idField] !== undefined && input[scope.idField] !== scope.id) {
    issues.push({
      field: scope.idField,
      code: 'ID_MISMATCH',
      message: `differs from the ${scope.idField} in the URL; leave it out or make them equal`,
    });
  }
  input[scope.idField] = scope.id;
  if (issues.length) {
    // Report every problem at once; the store validates (again) only inputs without a mismatch.
    const schemaIssues = scope.validate?.(input) ?? [];
    throw new ValidationFailedError([
      ...issues,
      ...schemaIssues.filter((i) => !issues.some((m) => m.field === i.field)),
    ]);
  }
  return { input, conditions };
}
