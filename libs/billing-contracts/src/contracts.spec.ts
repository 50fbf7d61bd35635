import {
  addReplayCounts,
  billingAttributes,
  billingSearchAttributes,
  billingWorkflowIds,
  emptyReplayCounts,
} from './index';

describe('billing contracts', () => {
  it('add replay counts field by field, reasons merged', () => {
    const a = {
      ...emptyReplayCounts(),
      scanned: 3,
      matched: 2,
      replayed: 1,
      stillInvalid: { UNKNOWN_CUSTOMER: 1 },
    };
    const b = {
      ...emptyReplayCounts(),
      scanned: 4,
      alreadyReplayed: 2,
      notReplayable: 1,
      stillInvalid: { UNKNOWN_CUSTOMER: 2, INVALID_EVENT: 1 },
    };
    expect(addReplayCounts(a, b)).toEqual({
      scanned: 7,
      matched: 2,
      replayed: 1,
      alreadyReplayed: 2,
      stillInvalid: { UNKNOWN_CUSTOMER: 3, INVALID_EVENT: 1 },
      notReplayable: 1,
    });
    expect(a.stillInvalid).toEqual({ UNKNOWN_CUSTOMER: 1 });
  });

  it('name search attributes kind and tenant always, customer and period when given', () => {
    expect(billingAttributes('billing-run', 'acme').map((p) => [p.key.name, p.value])).toEqual([
      ['TallyKind', 'billing-run'],
      ['TallyTenant', 'acme'],
    ]);
    expect(billingAttributes('rebill', 'acme', 'c1', '2026-10').map((p) => p.key)).toEqual([
      billingSearchAttributes.kind,
      billingSearchAttributes.tenant,
      billingSearchAttributes.customer,
      billingSearchAttributes.period,
    ]);
    expect(billingWorkflowIds.customerInvoice('acme', 'c1', '2026-10')).toBe('invoice/acme/c1/2026-10');
  });
});
