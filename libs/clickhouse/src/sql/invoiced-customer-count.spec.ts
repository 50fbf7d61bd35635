import { invoicedCustomerCountQuery } from './invoiced-customer-count';

describe('invoicedCustomerCountQuery', () => {
  it('counts the distinct customers of a period, exactly', () => {
    expect(invoicedCustomerCountQuery('tally', "o'b", '2026-10').text).toBe(
      "SELECT toString(uniqExact(customer)) AS n FROM `tally`.`invoices` WHERE tenant = 'o\\'b' AND period = '2026-10'",
    );
  });
});
