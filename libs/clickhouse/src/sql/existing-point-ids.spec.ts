import { findExistingPointIdsSql } from './existing-point-ids';

describe('findExistingPointIdsSql', () => {
  it('is exactly this: one group per tenant and dataset, ids as one array literal, quoted', () => {
    const groups = [
      { tenant: 'acme', dataset: 'calls', ids: ["it's", 'b'] },
      { tenant: 'globex', dataset: 'calls', ids: ['a'] },
    ];
    expect(findExistingPointIdsSql('tally', groups).text).toBe(
      "SELECT tenant, dataset, point_id FROM `tally`.`datapoint_ids` WHERE (tenant = 'acme' AND dataset = 'calls' AND point_id IN (SELECT arrayJoin(['it\\'s', 'b']))) OR (tenant = 'globex' AND dataset = 'calls' AND point_id IN (SELECT arrayJoin(['a']))) GROUP BY tenant, dataset, point_id",
    );
  });
});
