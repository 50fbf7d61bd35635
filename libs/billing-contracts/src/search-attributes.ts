import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type TypedSearchAttributes,
} from '@temporalio/common';

/**
 * The custom search attributes of billing workflows (registered on the Temporal server so the Web UI
 * can filter billing runs), as both workflow code and starters set them.
 */
export const billingSearchAttributes = {
  tenant: defineSearchAttributeKey('TallyTenant', SearchAttributeType.KEYWORD),
  customer: defineSearchAttributeKey('TallyCustomer', SearchAttributeType.KEYWORD),
  period: defineSearchAttributeKey('TallyPeriod', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('TallyKind', SearchAttributeType.KEYWORD),
};

export type BillingSearchAttributePair = {
  key: (typeof billingSearchAttributes)[keyof typeof billingSearchAttributes];
  value: string;
};

/** The attributes of one billing workflow: its kind and tenant, and its customer and period if it has them. */
export function billingAttributes(kind: string, tenant: string, customer?: string, period?: string) {
  const pairs: BillingSearchAttributePair[] = [
    { key: billingSearchAttributes.kind, value: kind },
    { key: billingSearchAttributes.tenant, value: tenant },
  ];
  if (customer !== undefined) pairs.push({ key: billingSearchAttributes.customer, value: customer });
  if (period !== undefined) pairs.push({ key: billingSearchAttributes.period, value: period });
  return pairs satisfies ConstructorParameters<typeof TypedSearchAttributes>[0];
}
