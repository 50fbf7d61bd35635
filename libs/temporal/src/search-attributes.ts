import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes registered on the Temporal server so the Web UI can filter billing runs. */
export const searchAttributes = {
  tenant: defineSearchAttributeKey('TallyTenant', SearchAttributeType.KEYWORD),
  customer: defineSearchAttributeKey('TallyCustomer', SearchAttributeType.KEYWORD),
  period: defineSearchAttributeKey('TallyPeriod', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('TallyKind', SearchAttributeType.KEYWORD),
};
