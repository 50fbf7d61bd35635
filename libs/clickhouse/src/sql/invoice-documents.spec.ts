import { invoiceDocumentsQuery } from './invoice-documents';

const COLUMNS = [
  'tenant, customer, period, invoice_id, kind, version, references_invoice_id, currency,',
  '  subtotal_minor, total_minor, cumulative_total_minor, lines, effective_lines, usage, pricing,',
  '  usage_event_count, usage_checksum, late_event_count, timezone,',
  '  toUInt32(period_start) AS period_start, toUInt32(period_end) AS period_end, issued_by, toUInt32(created_at) AS created_at',
].join('\n');

describe('invoiceDocumentsQuery', () => {
  it('reads one document by id with FINAL, every column, exactly', () => {
    expect(
      invoiceDocumentsQuery({ database: 'tally', selection: { tenant: 'acme', invoiceId: 'inv_1' } }).text,
    ).toBe(
      `SELECT ${COLUMNS} FROM \`tally\`.\`invoices\` FINAL WHERE tenant = 'acme' AND invoice_id = 'inv_1' ORDER BY period, customer, version`,
    );
  });

  it("reads a customer's documents, of every period or of one, exactly", () => {
    expect(
      invoiceDocumentsQuery({ database: 'tally', selection: { tenant: 'acme', customer: 'cust' } }).text,
    ).toBe(
      `SELECT ${COLUMNS} FROM \`tally\`.\`invoices\` FINAL WHERE tenant = 'acme' AND customer = 'cust' ORDER BY period, customer, version`,
    );
    expect(
      invoiceDocumentsQuery({
        database: 'tally',
        selection: { tenant: 'acme', customer: "o'b\\ x", period: '2026-10' },
      }).text,
    ).toBe(
      `SELECT ${COLUMNS} FROM \`tally\`.\`invoices\` FINAL WHERE tenant = 'acme' AND customer = 'o\\'b\\\\ x' AND period = '2026-10' ORDER BY period, customer, version`,
    );
  });

  it("reads one period's documents of several customers, without lines and usage when pricing only", () => {
    const pricing = [
      'tenant, customer, period, invoice_id, kind, version, references_invoice_id, currency,',
      "  subtotal_minor, total_minor, cumulative_total_minor, '[]' AS lines, effective_lines, '{}' AS usage, pricing,",
      '  usage_event_count, usage_checksum, late_event_count, timezone,',
      '  toUInt32(period_start) AS period_start, toUInt32(period_end) AS period_end, issued_by, toUInt32(created_at) AS created_at',
    ].join('\n');
    const selection = { tenant: 'acme', period: '2026-10', customers: ['a', "o'b"] };
    const where = "WHERE tenant = 'acme' AND period = '2026-10' AND customer IN ('a', 'o\\'b')";
    expect(invoiceDocumentsQuery({ database: 'tally', selection, pricingOnly: true }).text).toBe(
      `SELECT ${pricing} FROM \`tally\`.\`invoices\` FINAL ${where} ORDER BY period, customer, version`,
    );
    expect(invoiceDocumentsQuery({ database: 'tally', selection, pricingOnly: false }).text).toBe(
      `SELECT ${COLUMNS} FROM \`tally\`.\`invoices\` FINAL ${where} ORDER BY period, customer, version`,
    );
  });

  it('refuses an empty customer list (IN () is not SQL)', () => {
    expect(() =>
      invoiceDocumentsQuery({
        database: 'tally',
        selection: { tenant: 'acme', period: '2026-10', customers: [] },
      }),
    ).toThrow(RangeError);
  });
});
