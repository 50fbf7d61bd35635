import { ValidationFailedError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import { z } from 'zod';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** A page of a list: at most `limit` items whose id sorts after `after`. */
export interface PageRequest {
  limit: number;
  after?: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `after` to get the next page; absent on the last page. */
  next?: string;
}

const pageShape = {
  limit: z.coerce
    .number({ invalid_type_error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE),
  after: z.string().min(1).optional(),
};

/**
 * Decodes `?limit=&after=` (plus `extra` filters such as `customer`). Unknown parameters are refused
 * so that a misspelt filter does not silently return everything.
 */
export function parseListQuery<E extends string = never>(
  query: unknown,
  extra: readonly E[] = [],
): PageRequest & Partial<Record<E, string>> {
  const shape: z.ZodRawShape = { ...pageShape };
  for (const name of extra) shape[name] = z.string().min(1).optional();
  const parsed = z
    .object(shape)
    .strict()
    .safeParse(query ?? {});
  if (!parsed.success)
    throw new ValidationFailedError(fieldIssuesFromZod(parsed.error), 'Invalid query parameters');
  return parsed.data as PageRequest & Partial<Record<E, string>>;
}

/** One page of `items` ordered by `idOf` (by UTF-16 code units, like the `after` cursor). */
export function paginate<T>(items: readonly T[], idOf: (item: T) => string, page: PageRequest): Page<T> {
  const sorted = [...items].sort((a, b) => compare(idOf(a), idOf(b)));
  const after = page.after;
  const start = after === undefined ? 0 : sorted.findIndex((item) => compare(idOf(item), after) > 0);
  const rest = start < 0 ? [] : sorted.slice(start);
  const pageItems = rest.slice(0, page.limit);
  return rest.length > page.limit
    ? { items: pageItems, next: idOf(pageItems[pageItems.length - 1]) }
    : { items: pageItems };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
