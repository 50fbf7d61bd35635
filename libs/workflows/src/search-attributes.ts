import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type TypedSearchAttributes,
} from '@temporalio/common';

/**
 * The custom search attributes of billing workflows, as workflow code sets them on the children it
 * starts. Same keys as `@tally/temporal`'s `searchAttributes` (that lib is Node-only plumbing the
 * sandbox may not import); `search-attributes.spec.ts` keeps the two equal.
 */
export const billingSearchAttributes = {
  tenant: defineSearchAttributeKey('TallyTenant', SearchAttributeType.KEYWORD),
  customer: defineSearchAttributeKey('TallyCustomer', SearchAttributeType.KEYWORD),
  period: defineSearchAttributeKey('TallyPeriod', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('TallyKind', SearchAttributeType.KEYWORD),
};

export function billingAttributes(kind: string, tenant: string, customer?: string, period?: string) {
  const pairs: Array<{
    key: (typeof billingSearchAttributes)[keyof typeof billingSearchAttributes];
    value: string;
  }> = [
    { key: billingSearchAttributes.kind, value: kind },
    { key: billingSearchAttributes.tenant, value: tenant },
  ];
  if (customer !== undefined) pairs.push({ key: billingSearchAttributes.customer, value: customer });
  if (period !== undefined) pairs.push({ key: billingSearchAttributes.period, value: period });
  return pairs satisfies ConstructorParameters<typeof TypedSearchAttributes>[0];
}

/** Names shared with the starters in `@tally/billing` (checked by `contracts.spec.ts`). */
export const LATE_EVENTS_SIGNAL = 'lateEvents';
export const PROGRESS_QUERY = 'progress';
