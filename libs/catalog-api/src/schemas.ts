import { customerSchema } from '@tally/catalog';
import { z } from 'zod';

/**
 * A customer as written: the store fills in `createdAt`, so a placeholder stands in for it when an
 * input is only validated (the API reporting every issue at once, `catalog apply` planning).
 */
export const customerInputSchema = z.preprocess(
  (v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? { createdAt: '1970-01-01T00:00:00.000Z', ...v } : v,
  customerSchema,
);
