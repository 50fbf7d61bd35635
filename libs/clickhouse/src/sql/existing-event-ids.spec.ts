import { findExistingEventIdsSql } from './existing-event-ids';

describe('findExistingEventIdsSql', () => {
  it('is exactly this: one group per tenant, ids as one array literal, quoted', () => {
    const ids = new Map<string, readonly string[]>([
      ['acme', ["it's", 'b']],
      ['globex', ['a']],
    ]);
    expect(findExistingEventIdsSql('tally', ids).text).toBe(
      "SELECT tenant, event_id, min(payload_hash) AS payload_hash FROM `tally`.`event_ids` WHERE (tenant = 'acme' AND event_id IN (SELECT arrayJoin(['it\\'s', 'b']))) OR (tenant = 'globex' AND event_id IN (SELECT arrayJoin(['a']))) GROUP BY tenant, event_id",
    );
  });

  it('reads the named table: a cluster node\'s shard-local index', () => {
    expect(findExistingEventIdsSql('tally', new Map([['acme', ['a']]]), 'event_ids_local').text).toBe(
      "SELECT tenant, event_id, min(payload_hash) AS payload_hash FROM `tally`.`event_ids_local` WHERE (tenant = 'acme' AND event_id IN (SELECT arrayJoin(['a']))) GROUP BY tenant, event_id",
    );
  });

  it('refuses a database name that is not an identifier', () => {
    expect(() => findExistingEventIdsSql('tally; DROP', new Map([['acme', ['a']]]))).toThrow(
      /not a valid identifier/,
    );
  });
});
