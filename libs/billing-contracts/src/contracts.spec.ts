import {
  addReplayCounts,
  billingAttributes,
  billingSearchAttributes,
  billingWorkflowIds,
  emptyReplayCounts,
  addSimulationSummaries,
  emptySimulationSummary,
  summarizeSimulations,
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

describe('simulation summaries', () => {
  const result = (customer: string, currency: string, billed: string, simulated: string) => ({
    customer,
    period: '2026-10',
    status: 'simulated' as const,
    currency,
    billedMinor: billed,
    simulatedMinor: simulated,
    differenceMinor: (BigInt(simulated) - BigInt(billed)).toString(),
    invoiceId: 'inv',
    fingerprint: { invoice: { eventCount: '0', checksum: '0' }, priced: { eventCount: '0', checksum: '0' } },
    lines: [],
  });

  it('sum exactly per currency, beyond 2^53 minor units', () => {
    const page1 = summarizeSimulations(
      [result('a', 'USD', '9007199254740993', '9007199254740995'), result('b', 'EUR', '100', '90')],
      3,
      1,
    );
    const page2 = summarizeSimulations([result('c', 'USD', '7', '7')], 1, 0);
    expect(addSimulationSummaries(page1, page2)).toEqual({
      counts: { scanned: 4, simulated: 3, usageChanged: 0, notInvoiced: 1 },
      totals: [
        { currency: 'EUR', customers: 1, billedMinor: '100', simulatedMinor: '90', differenceMinor: '-10' },
        {
          currency: 'USD',
          customers: 2,
          billedMinor: '9007199254741000',
          simulatedMinor: '9007199254741002',
          differenceMinor: '2',
        },
      ],
    });
    expect(addSimulationSummaries(emptySimulationSummary(), page2)).toEqual(page2);
  });
});
