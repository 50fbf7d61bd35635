import { simulationResultsPageQuery } from './simulation-results-page';

describe('simulationResultsPageQuery', () => {
  it('reads the first page with FINAL in (period, customer) order, exactly', () => {
    expect(
      simulationResultsPageQuery({ database: 'tally', tenant: 'acme', simulationId: 'sim_1', limit: 100 })
        .text,
    ).toBe(
      [
        'SELECT result FROM `tally`.`simulation_results` FINAL',
        "          WHERE tenant = 'acme' AND simulation_id = 'sim_1'",
        '          ORDER BY period, customer LIMIT 100',
      ].join('\n'),
    );
  });

  it('continues after a (period, customer), exactly', () => {
    expect(
      simulationResultsPageQuery({
        database: 'tally',
        tenant: 'acme',
        simulationId: 'sim_1',
        after: { period: '2026-10', customer: "o'b" },
        limit: 51.9,
      }).text,
    ).toBe(
      [
        'SELECT result FROM `tally`.`simulation_results` FINAL',
        "          WHERE tenant = 'acme' AND simulation_id = 'sim_1' AND (period > '2026-10' OR (period = '2026-10' AND customer > 'o\\'b'))",
        '          ORDER BY period, customer LIMIT 51',
      ].join('\n'),
    );
  });

  it('asks for at least one row', () => {
    expect(
      simulationResultsPageQuery({ database: 'tally', tenant: 'acme', simulationId: 'sim_1', limit: 0.5 })
        .text,
    ).toMatch(/ LIMIT 1$/);
  });
});
