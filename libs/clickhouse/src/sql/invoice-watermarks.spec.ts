import { invoiceWatermarksQuery } from './invoice-watermarks';

describe('invoiceWatermarksQuery', () => {
  it('reads the watermarks of the same selection with FINAL, exactly', () => {
    expect(invoiceWatermarksQuery('tally', { tenant: 'acme', invoiceId: 'inv_1' }).text).toBe(
      "SELECT invoice_id, toUInt32(complete_through) AS complete_through FROM `tally`.`invoice_completeness` FINAL WHERE tenant = 'acme' AND invoice_id = 'inv_1'",
    );
    expect(
      invoiceWatermarksQuery('tally', { tenant: 'acme', period: '2026-10', customers: ["o'b"] }).text,
    ).toBe(
      "SELECT invoice_id, toUInt32(complete_through) AS complete_through FROM `tally`.`invoice_completeness` FINAL WHERE tenant = 'acme' AND period = '2026-10' AND customer IN ('o\\'b')",
    );
  });
});
