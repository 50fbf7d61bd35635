import { invoicedCustomersQuery } from './invoiced-customers';

describe('invoicedCustomersQuery', () => {
  it('pages the customers of a period in sorted order, exactly', () => {
    expect(
      invoicedCustomersQuery({ database: 'tally', tenant: 'acme', period: '2026-10', limit: 10 }).text,
    ).toBe(
      "SELECT DISTINCT customer FROM `tally`.`invoices` WHERE tenant = 'acme' AND period = '2026-10'\n          ORDER BY customer LIMIT 10",
    );
    expect(
      invoicedCustomersQuery({
        database: 'tally',
        tenant: 'acme',
        period: '2026-10',
        after: "o'b",
        limit: 2.7,
      }).text,
    ).toBe(
      "SELECT DISTINCT customer FROM `tally`.`invoices` WHERE tenant = 'acme' AND period = '2026-10' AND customer > 'o\\'b'\n          ORDER BY customer LIMIT 2",
    );
  });

  it('asks for at least one row', () => {
    expect(
      invoicedCustomersQuery({ database: 'tally', tenant: 'acme', period: '2026-10', limit: 0 }).text,
    ).toMatch(/ LIMIT 1$/);
  });
});
