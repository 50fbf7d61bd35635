import { BadRequestError, type FieldIssue, ValidationFailedError } from '@tally/errors';

/**
 * What a write requires of the stored entity, decoded from `If-Match` / `If-None-Match` and the
 * body's `expectedRevision`:
 *
 * - `expectedRevision: 0`: it must not exist yet (`If-None-Match: *`, or `expectedRevision: 0`);
 * - `expectedRevision: n`: its revision must still be `n` (`If-Match: "n"`);
 * - `mustExist`: it must exist, whatever its revision (`If-Match: *`);
 * - nothing: last write wins.
 */
export interface WriteConditions {
  expectedRevision?: number;
  mustExist?: boolean;
}

/** `ETag` value of a revision: a strong entity tag holding the KV revision, e.g. `"42"`. */
export function etagOf(revision: number): string {
  return `"${revision}"`;
}

const ENTITY_TAG = /^(?:W\/)?"(\d{1,15})"$|^(\d{1,15})$/;

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value.join(',') : value;
  const trimmed = v?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/**
 * Decodes the conditional headers of a write. `If-Match` takes one entity tag (the `ETag` a read
 * returned) or `*`; `If-None-Match` only `*` (create only). Anything else is a 400 naming the header,
 * because silently ignoring a precondition the client thinks it sent would lose updates.
 */
export function conditionsFromHeaders(
  headers: Record<string, string | string[] | undefined>,
): WriteConditions {
  const ifMatch = headerValue(headers['if-match']);
  const ifNoneMatch = headerValue(headers['if-none-match']);
  if (ifMatch !== undefined && ifNoneMatch !== undefined) {
    throw preconditionError('If-None-Match', 'send either If-Match or If-None-Match, not both');
  }
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch !== '*')
      throw preconditionError('If-None-Match', 'only If-None-Match: * (create only) is supported');
    return { expectedRevision: 0 };
  }
  if (ifMatch === undefined) return {};
  if (ifMatch === '*') return { mustExist: true };
  const m = ENTITY_TAG.exec(ifMatch);
  const revision = m ? Number(m[1] ?? m[2]) : NaN;
  if (!Number.isSafeInteger(revision) || revision < 1) {
    throw preconditionError('If-Match', 'must be one entity tag as returned in ETag, such as "42", or *');
  }
  return { expectedRevision: revision };
}

/**
 * Combines header conditions with a body's `expectedRevision` (for clients that cannot set headers).
 * Both may be given only when they agree.
 */
export function mergeConditions(fromHeaders: WriteConditions, bodyExpected: unknown): WriteConditions {
  if (bodyExpected === undefined) return fromHeaders;
  if (typeof bodyExpected !== 'number' || !Number.isSafeInteger(bodyExpected) || bodyExpected < 0) {
    throw new ValidationFailedError([
      {
        field: 'expectedRevision',
        code: 'INVALID_VALUE',
        message: 'must be a whole number: 0 to create only, else the revision you read',
      },
    ]);
  }
  if (
    fromHeaders.mustExist ||
    (fromHeaders.expectedRevision !== undefined && fromHeaders.expectedRevision !== bodyExpected)
  ) {
    throw new ValidationFailedError([
      {
        field: 'expectedRevision',
        code: 'PRECONDITION_MISMATCH',
        message: 'disagrees with the If-Match / If-None-Match header',
      },
    ]);
  }
  return { expectedRevision: bodyExpected };
}

function preconditionError(header: string, message: string): BadRequestError {
  const details: FieldIssue[] = [{ field: header, code: 'INVALID_PRECONDITION', message }];
  return new BadRequestError('INVALID_PRECONDITION', `${header}: ${message}`, { details });
}
