import type { FieldIssue } from '@tally/errors';
import type { ZodError, ZodIssue } from 'zod';

/**
 * Stable codes of the problems schema validation reports (documented in docs/meters.md and
 * docs/catalog.md). Refinements add their own codes through `params.code`.
 */
export type SchemaIssueCode =
  | 'REQUIRED'
  | 'INVALID_TYPE'
  | 'INVALID_FORMAT'
  | 'INVALID_VALUE'
  | 'TOO_SHORT'
  | 'TOO_LONG'
  | 'OUT_OF_RANGE'
  | 'UNKNOWN_FIELD'
  | 'INVALID';

/** `["filters", 0, "value"]` → `filters[0].value`. */
export function fieldPath(path: ReadonlyArray<string | number>, prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

function codeOf(issue: ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.received === 'undefined' ? 'REQUIRED' : 'INVALID_TYPE';
    case 'invalid_string':
      return 'INVALID_FORMAT';
    case 'invalid_enum_value':
    case 'invalid_literal':
    case 'invalid_union':
    case 'invalid_union_discriminator':
      return 'INVALID_VALUE';
    case 'too_small':
      return issue.type === 'string' || issue.type === 'array' ? 'TOO_SHORT' : 'OUT_OF_RANGE';
    case 'too_big':
      return issue.type === 'string' || issue.type === 'array' ? 'TOO_LONG' : 'OUT_OF_RANGE';
    case 'not_multiple_of':
    case 'not_finite':
      return 'OUT_OF_RANGE';
    case 'unrecognized_keys':
      return 'UNKNOWN_FIELD';
    case 'custom':
      return typeof issue.params?.code === 'string' ? issue.params.code : 'INVALID';
    default:
      return 'INVALID';
  }
}

/**
 * Every issue of a failed zod parse as `FieldIssue`s with dotted paths (`profiles[1].filters[0].value`),
 * one per unknown key, so that an operator sees every mistake of a definition at once.
 */
export function fieldIssuesFromZod(error: ZodError, prefix = ''): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'invalid_union' && issue.unionErrors.length > 0) {
      // A union failed: report the branch that got furthest rather than "invalid input".
      const best = [...issue.unionErrors].sort((a, b) => depth(b) - depth(a))[0];
      if (depth(best) > issue.path.length) {
        issues.push(...fieldIssuesFromZod(best, prefix));
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({
          field: fieldPath([...issue.path, key], prefix),
          code: 'UNKNOWN_FIELD',
          message: `'${key}' is not a known field`,
        });
      }
      continue;
    }
    issues.push({ field: fieldPath(issue.path, prefix), code: codeOf(issue), message: issue.message });
  }
  return dedupe(issues);
}

function depth(error: ZodError): number {
  return Math.max(0, ...error.issues.map((i) => i.path.length));
}

function dedupe(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.field}\u0000${i.code}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
