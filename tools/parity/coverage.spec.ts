import { resolve } from 'node:path';
import { BUILDERS, scanSqlSources, SQL_FILES, uncovered } from './coverage';

describe('the parity suite covers every SQL builder', () => {
  const sources = scanSqlSources(resolve(__dirname, '../..'));

  it('finds the builders of metering, usage, billing, ingestion and analytics', () => {
    const names = new Set(sources.builders.map((b) => b.name));
    for (const name of [
      'meterQuery',
      'topCustomers',
      'rollupMeterQuery',
      'billingUsageQuery',
      'usageFingerprintQuery',
    ]) {
      expect(names).toContain(name);
    }
    expect(sources.files.length).toBeGreaterThan(10);
  });

  it('lists every exported builder and every file that writes SQL (add new ones to coverage.ts and the suite)', () => {
    expect(uncovered(sources)).toEqual([]);
  });

  it('notices a builder it does not list', () => {
    expect(
      uncovered({
        builders: [{ name: 'invoiceTotalsQuery', file: 'libs/x.ts' }],
        files: ['libs/y/new-sql.ts'],
      }),
    ).toEqual(['builder invoiceTotalsQuery (libs/x.ts)', 'file libs/y/new-sql.ts']);
  });

  it('names a section for every builder', () => {
    expect(Object.values(BUILDERS).every((s) => s.length > 0)).toBe(true);
    expect(Object.keys(SQL_FILES).length).toBeGreaterThan(10);
  });
});
