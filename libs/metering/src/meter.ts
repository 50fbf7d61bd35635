import { ValidationFailedError } from '@tally/errors';
import { z } from 'zod';
import { toDecimalText } from './meter-value';
import { fieldIssuesFromZod } from './zod-issues';

/** Meter and profile keys: they name usage lines (`meter` or `meter:profile`) and appear in KV keys. */
export const METER_KEY_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

export const AGGREGATIONS = ['count', 'sum', 'unique_count', 'max', 'min', 'latest', 'avg'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export const FILTER_OPERATORS = ['eq', 'ne', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'exists'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/**
 * The property name that means the event's `quantity` column instead of a property, in
 * `valueProperty` and in filters (group-by always reads properties).
 */
export const QUANTITY = 'quantity';

/** Same limits as ingestion (docs/events.md): a longer key or type can never match an event. */
export const PROPERTY_NAME_MAX_LENGTH = 128;
export const EVENT_TYPE_MAX_LENGTH = 128;
const MAX_IN_VALUES = 1000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Any text that can be sent to ClickHouse exactly (a lone UTF-16 surrogate has no UTF-8 form). */
const exactText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !LONE_SURROGATE.test(s), {
      message: 'contains a lone UTF-16 surrogate, which cannot be stored exactly',
      params: { code: 'INVALID_STRING' },
    });

const propertyName = exactText(1, PROPERTY_NAME_MAX_LENGTH);

const scalar = z.union([exactText(0, 4096), z.number().finite()]);
export type FilterScalar = z.infer<typeof scalar>;

export const filterSchema = z
  .object({
    /** A property name; Billingrails writes it as a one-element array (`["country"]`). */
    property: z.union([propertyName, z.array(propertyName).length(1, 'must name exactly one property')]),
    operator: z.enum(FILTER_OPERATORS),
    value: z.union([scalar, z.array(scalar)]).optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const issue = (code: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: ['value'], message, params: { code } });
    const onQuantity = filterProperty(f) === QUANTITY;
    const checkDecimal = (v: FilterScalar, what: string) => {
      if (toDecimalText(v) === undefined) {
        issue(
          'INVALID_DECIMAL',
          `${what} must be a number or decimal string that fits Decimal(38, 12) (26 integer, 12 fraction digits)`,
        );
      }
    };
    switch (f.operator) {
      case 'exists':
        if (f.value !== undefined) issue('VALUE_NOT_ALLOWED', "'exists' takes no value");
        return;
      case 'eq':
      case 'ne':
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        if (f.value === undefined) return issue('REQUIRED', `'${f.operator}' needs a value`);
        if (Array.isArray(f.value))
          return issue('VALUE_MUST_BE_SCALAR', `'${f.operator}' compares with one value`);
        if (onQuantity || !(f.operator === 'eq' || f.operator === 'ne')) checkDecimal(f.value, 'the value');
        return;
      }
      case 'in':
      case 'not_in': {
        if (f.value === undefined)
          return issue('REQUIRED', `'${f.operator}' needs a value or a list of values`);
        const values = Array.isArray(f.value) ? f.value : [f.value];
        if (values.length === 0) return issue('TOO_SHORT', `'${f.operator}' needs at least one value`);
        if (values.length > MAX_IN_VALUES) return issue('TOO_LONG', `at most ${MAX_IN_VALUES} values`);
        if (onQuantity) values.forEach((v) => checkDecimal(v, 'every value'));
        return;
      }
    }
  });

export type Filter = z.infer<typeof filterSchema>;

/** The one property a filter reads (`"country"` for both `"country"` and `["country"]`). */
export function filterProperty(filter: Pick<Filter, 'property'>): string {
  return typeof filter.property === 'string' ? filter.property : filter.property[0];
}

/** A filter's values as a list: `in` with a scalar value means `in [value]`. */
export function filterValues(filter: Pick<Filter, 'value'>): FilterScalar[] {
  if (filter.value === undefined) return [];
  return Array.isArray(filter.value) ? filter.value : [filter.value];
}

const filters = z.array(filterSchema).max(50).default([]);

function checkValueProperty(
  v: { aggregation: Aggregation; valueProperty?: string },
  ctx: z.RefinementCtx,
  path: Array<string | number>,
): void {
  if (v.aggregation === 'count' && v.valueProperty !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'valueProperty'],
      message: "'count' counts events and reads no value; remove valueProperty",
      params: { code: 'VALUE_PROPERTY_NOT_ALLOWED' },
    });
  }
  if (v.aggregation !== 'count' && v.valueProperty === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'valueProperty'],
      message: `'${v.aggregation}' needs valueProperty (a property name, or "quantity" for the event's quantity)`,
      params: { code: 'REQUIRED' },
    });
  }
}

export const meterProfileSchema = z
  .object({
    key: z.string().regex(METER_KEY_PATTERN, 'must match ^[a-z][a-z0-9_]{0,62}$'),
    name: z.string().min(1).max(256),
    aggregation: z.enum(AGGREGATIONS),
    valueProperty: propertyName.optional(),
    filters,
  })
  .strict();

export type MeterProfile = z.infer<typeof meterProfileSchema>;

/**
 * What a meter measures: which events (`eventTypes` and `filters`), how they are aggregated, by
 * which properties usage may be grouped, and named profiles (other aggregations and extra filters over
 * the same events). Storage fields (tenant, version) are added by the catalog.
 */
export const meterDefinitionShape = {
  key: z.string().regex(METER_KEY_PATTERN, 'must match ^[a-z][a-z0-9_]{0,62}$'),
  name: z.string().min(1).max(256),
  eventTypes: z.array(exactText(1, EVENT_TYPE_MAX_LENGTH)).min(1).max(100),
  aggregation: z.enum(AGGREGATIONS),
  valueProperty: propertyName.optional(),
  filters,
  groupBy: z.array(propertyName).max(20).default([]),
  profiles: z.array(meterProfileSchema).max(50).default([]),
};

/** Cross-field rules of a meter; exported so that the catalog's extended schema applies them too. */
export function refineMeterDefinition(
  m: {
    aggregation: Aggregation;
    valueProperty?: string;
    eventTypes: string[];
    groupBy: string[];
    profiles: MeterProfile[];
  },
  ctx: z.RefinementCtx,
): void {
  checkValueProperty(m, ctx, []);
  m.profiles.forEach((p, i) => checkValueProperty(p, ctx, ['profiles', i]));
  const duplicates = (list: string[], path: string, what: string) => {
    const seen = new Set<string>();
    list.forEach((item, i) => {
      if (seen.has(item)) {
        ctx.addIssue({
          code: 'custom',
          path: [path, i],
          message: `${what} '${item}' appears twice`,
          params: { code: 'DUPLICATE' },
        });
      }
      seen.add(item);
    });
  };
  duplicates(m.eventTypes, 'eventTypes', 'event type');
  duplicates(m.groupBy, 'groupBy', 'property');
  m.profiles.forEach((p, i) => {
    if (m.profiles.findIndex((o) => o.key === p.key) !== i) {
      ctx.addIssue({
        code: 'custom',
        path: ['profiles', i, 'key'],
        message: `profile '${p.key}' appears twice`,
        params: { code: 'DUPLICATE' },
      });
    }
  });
}

export const meterDefinitionSchema = z
  .object(meterDefinitionShape)
  .strict()
  .superRefine(refineMeterDefinition);

export type MeterDefinition = z.infer<typeof meterDefinitionSchema>;
export type MeterDefinitionInput = z.input<typeof meterDefinitionSchema>;

/** Parses a meter definition (typically operator JSON), throwing `ValidationFailedError` with every issue. */
export function parseMeterDefinition(input: unknown): MeterDefinition {
  const result = meterDefinitionSchema.safeParse(input);
  if (!result.success) throw new ValidationFailedError(fieldIssuesFromZod(result.error), 'Invalid meter');
  return result.data;
}

/** The effective definition of one usage series: the meter itself, or one profile with the meter's filters. */
export interface Series {
  /** `meter` or `meter:profile`: the key under which pricing reads usage. */
  key: string;
  meter: string;
  profile?: string;
  aggregation: Aggregation;
  valueProperty?: string;
  /** The meter's filters, then the profile's: an event must pass all of them. */
  filters: Filter[];
  eventTypes: string[];
}

/**
 * Resolves `meter` (and optionally one of its profiles) into the series a query aggregates. A
 * profile shares the meter's event types and filters and adds its own filters and aggregation.
 */
export function resolveSeries(meter: MeterDefinition, profile?: string): Series {
  if (profile === undefined) {
    return {
      key: meter.key,
      meter: meter.key,
      aggregation: meter.aggregation,
      valueProperty: meter.valueProperty,
      filters: meter.filters,
      eventTypes: meter.eventTypes,
    };
  }
  const p = meter.profiles.find((x) => x.key === profile);
  if (!p) {
    throw new ValidationFailedError([
      {
        field: 'profile',
        code: 'UNKNOWN_PROFILE',
        message: `meter '${meter.key}' has no profile '${profile}'`,
      },
    ]);
  }
  return {
    key: `${meter.key}:${p.key}`,
    meter: meter.key,
    profile: p.key,
    aggregation: p.aggregation,
    valueProperty: p.valueProperty,
    filters: [...meter.filters, ...p.filters],
    eventTypes: meter.eventTypes,
  };
}

/** The meter's own series followed by one per profile, in definition order. */
export function allSeries(meter: MeterDefinition): Series[] {
  return [resolveSeries(meter), ...meter.profiles.map((p) => resolveSeries(meter, p.key))];
}
