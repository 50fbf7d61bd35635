import { ClickHouseError } from '@tally/clickhouse';
import type { UsageEvent } from '@tally/event-schema';
import { natsNames } from '@tally/nats';
import { encodeBatchMessage, usageEventOf, type DeadLetter, type DeadLetterSink, type EventAdmission } from '@tally/ingest-protocol';
import { BatchWriter, dedupKey, type EventStore, type InboundMessage, type StoredEvent } from './batch-writer';

class MemoryStore implements EventStore {
  readonly rows = new Map<string, StoredEvent>();
  failNextInsert = false;
  /** Refuses (non-transiently, as ClickHouse refuses a value) any insert holding one of these ids. */
  refuse = new Set<string>();
  transientFailure = false;
  inserts = 0;
  async findExisting(idsByTenant: ReadonlyMap<string, readonly string[]>) {
    const found = new Map<string, string>();
    for (const [tenant, ids] of idsByTenant) {
      for (const id of ids) {
        const row = this.rows.get(dedupKey(tenant, id));
        if (row) found.set(dedupKey(tenant, id), row.fingerprint);
      }
    }
    return found;
  }
  async insert(events: StoredEvent[]) {
    this.inserts++;
    if (this.transientFailure) throw new ClickHouseError('CLICKHOUSE_UNAVAILABLE', 'ClickHouse unreachable', true);
    const bad = events.find((e) => this.refuse.has(e.id));
    if (bad)
      throw new ClickHouseError('CLICKHOUSE_QUERY_FAILED', 'ClickHouse request failed', false, {
        serverCode: 395,
        serverMessage: `Value passed to 'throwIf' function is non zero (${bad.id})`,
      });
    if (this.failNextInsert) {
      this.failNextInsert = false;
      throw new Error('connection refused');
    }
    for (const e of events) {
      const key = dedupKey(e.tenant, e.id);
      if (this.rows.has(key)) throw new Error(`test invariant: ${key} inserted twice`);
      this.rows.set(key, e);
    }
  }
  total(): string {
    let sum = 0n;
    for (const r of this.rows.values()) sum += BigInt(usageEventOf(r).quantity);
    return sum.toString();
  }
}

class MemoryDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async publish(letters: DeadLetter[]) {
    this.letters.push(...letters);
  }
}

const acceptAll: EventAdmission = { check: () => undefined };

const event = (id: string, quantity = '1', customer = 'c1'): UsageEvent => ({
  id,
  idGenerated: false,
  ts: 1_700_000_000_123,
  customer,
  type: 'api_call',
  quantity,
  properties: { region: 'eu' },
  source: 'test',
  schemaVersion: '1',
  requestId: '',
});

let seq = 0;
const message = (
  tenant: string,
  events: UsageEvent[],
  deliveryCount = 1,
  v: 1 | 2 | 3 = 3,
  subjectTenant: string | undefined = tenant,
): InboundMessage => ({
  data: encodeBatchMessage({ v, tenant, receivedAt: 1_700_000_000_500, events }),
  streamSeq: ++seq,
  deliveryCount,
  publishedAt: 1_700_000_000_600,
  subjectTenant,
});

describe('BatchWriter', () => {
  it('stores each event once across redelivery of the same messages', async () => {
    const store = new MemoryStore();
    const writer = new BatchWriter(store, new MemoryDeadLetters(), acceptAll);
    const batch = [message('acme', [event('a', '2'), event('b', '3')]), message('acme', [event('c', '5')])];

    const first = await writer.write(batch);
    // A crash between insert and ack: JetStream delivers the same messages again.
    const again = await writer.write(batch.map((m) => ({ ...m, deliveryCount: 2 })));

    expect(first).toMatchObject({ inserted: 3, duplicates: 0, deadLettered: 0 });
    expect(again).toMatchObject({ inserted: 0, duplicates: 3, deadLettered: 0 });
    expect(store.total()).toBe('10');
  });

  it('drops repeats inside one batch and keeps tenants apart', async () => {
    const store = new MemoryStore();
    const writer = new BatchWriter(store, new MemoryDeadLetters(), acceptAll);
    const outcome = await writer.write([
      message('acme', [event('a'), event('a')]),
      message('acme', [event('a')]),
      message('globex', [event('a')]),
    ]);
    expect(outcome).toMatchObject({ inserted: 2, duplicates: 2 });
    expect([...store.rows.keys()].sort()).toEqual([dedupKey('acme', 'a'), dedupKey('globex', 'a')]);
  });

  it('dead-letters a reused key with a different payload, in the batch and against the store', async () => {
    const store = new MemoryStore();
    const dead = new MemoryDeadLetters();
    const writer = new BatchWriter(store, dead, acceptAll);
    await writer.write([message('acme', [event('a', '1')])]);
    const outcome = await writer.write([message('acme', [event('a', '7'), event('b', '1'), event('b', '9')])]);

    expect(outcome).toMatchObject({ inserted: 1, deadLettered: 2 });
    expect(dead.letters.map((l) => [l.reason, l.event?.id, l.event?.quantity])).toEqual([
      ['IDEMPOTENCY_CONFLICT', 'b', '9'],
      ['IDEMPOTENCY_CONFLICT', 'a', '7'],
    ]);
    expect(store.total()).toBe('2');
  });

  it('dead-letters undecodable messages with their raw payload and what the catalog refuses', async () => {
    const dead = new MemoryDeadLetters();
    const admission: EventAdmission = {
      check: (_tenant, e) => (e.customer === 'ghost' ? { reason: 'UNKNOWN_CUSTOMER', message: 'no such customer' } : undefined),
    };
    const writer = new BatchWriter(new MemoryStore(), dead, admission, () => 42);
    const garbage: InboundMessage = { data: Buffer.from('not json'), streamSeq: 99, deliveryCount: 3, publishedAt: 7, subjectTenant: 'acme' };
    const outcome = await writer.write([garbage, message('acme', [event('a', '1', 'ghost'), event('b')])]);

    expect(outcome).toMatchObject({ inserted: 1, deadLettered: 2 });
    expect(dead.letters[0]).toEqual({
      reason: 'UNDECODABLE',
      message: 'payload is not JSON',
      tenant: '_unknown',
      event: undefined,
      rawPayload: Buffer.from('not json').toString('base64'),
      firstSeenAt: 7,
      deadLetteredAt: 42,
      deliveryCount: 3,
      streamSeq: 99,
    });
    expect(dead.letters[1]).toMatchObject({ reason: 'UNKNOWN_CUSTOMER', tenant: 'acme', event: { id: 'a' } });
  });

  it('stores messages of every encoding alike, and a truncated binary one is dead-lettered whole', async () => {
    const store = new MemoryStore();
    const dead = new MemoryDeadLetters();
    const writer = new BatchWriter(store, dead, acceptAll);
    const binary = message('acme', [event('d', '4'), event('e', '5')]);
    const truncated: InboundMessage = { ...binary, data: binary.data.subarray(0, binary.data.byteLength - 3), streamSeq: 1234 };
    const outcome = await writer.write([
      message('acme', [event('a', '1')], 1, 1),
      message('acme', [event('b', '2'), event('a', '1')], 1, 2),
      message('acme', [event('c', '3'), event('b', '2')], 1, 3),
      truncated,
    ]);
    expect(outcome).toMatchObject({ inserted: 3, duplicates: 2, deadLettered: 1 });
    expect(store.total()).toBe('6');
    expect(dead.letters[0]).toMatchObject({ reason: 'UNDECODABLE', streamSeq: 1234, message: expect.stringContaining('event 1') });
    const stored = store.rows.get(dedupKey('acme', 'c'));
    expect(stored && usageEventOf(stored)).toEqual({ ...event('c', '3'), tsGenerated: false });
  });

  it('throws on a failed insert without publishing dead letters, and a retry stores everything once', async () => {
    const store = new MemoryStore();
    const dead = new MemoryDeadLetters();
    const writer = new BatchWriter(store, dead, acceptAll);
    const batch = [message('acme', [event('a'), event('b')])];
    store.failNextInsert = true;
    await expect(writer.write(batch)).rejects.toThrow('connection refused');
    expect(store.rows.size).toBe(0);
    expect(await writer.write(batch)).toMatchObject({ inserted: 2, duplicates: 0 });
  });

  it('takes the tenant from the subject: a payload naming another tenant is dead-lettered, not stored', async () => {
    const store = new MemoryStore();
    const dead = new MemoryDeadLetters();
    const writer = new BatchWriter(store, dead, acceptAll, () => 42);
    const forged = message('victim', [event('x', '1000')], 1, 3, 'mallory');
    const outcome = await writer.write([forged, message('mallory', [event('y')]), { ...message('victim', [event('z')]), subjectTenant: undefined }]);

    expect(outcome).toMatchObject({ inserted: 1, deadLettered: 2 });
    expect([...store.rows.keys()]).toEqual([dedupKey('mallory', 'y')]);
    expect(dead.letters.map((l) => [l.reason, l.tenant, l.streamSeq])).toEqual([
      ['TENANT_MISMATCH', 'mallory', forged.streamSeq],
      ['TENANT_MISMATCH', '_unknown', seq],
    ]);
    expect(dead.letters[0].rawPayload).toBe(Buffer.from(forged.data).toString('base64'));
    expect(dead.letters[0].message).toContain("'victim'");
  });

  it('reads the tenant of the stream subjects the writer loops consume, and nothing else', () => {
    const names = natsNames('t_abc');
    expect(names.tenantOfEventsSubject(names.eventsSubject('acme'))).toBe('acme');
    expect(names.tenantOfPointsSubject(names.pointsSubject('acme', 'calls'))).toBe('acme');
    for (const subject of ['t_abc.events.acme.x', 't_abc.events.', 'tally.events.acme', 't_abc.datapoints.acme', 't_abc.dlq.acme']) {
      expect(names.tenantOfEventsSubject(subject)).toBeUndefined();
      expect(names.tenantOfPointsSubject(subject)).toBeUndefined();
    }
  });

  describe('poison batches', () => {
    const batch = () => [
      message('acme', Array.from({ length: 40 }, (_, i) => event(`a${i}`, '1'))),
      message('other', Array.from({ length: 9 }, (_, i) => event(`o${i}`, '2'))),
    ];

    it('fails the whole batch by default, then in isolation stores all but the refused events, dead-lettered with the error', async () => {
      const store = new MemoryStore();
      store.refuse = new Set(['a7', 'a31']);
      const dlq = new MemoryDeadLetters();
      const writer = new BatchWriter(store, dlq, acceptAll, () => 42);
      await expect(writer.write(batch())).rejects.toBeInstanceOf(ClickHouseError);
      expect(store.rows.size).toBe(0);

      const outcome = await writer.write(batch(), { isolateRefusals: true });
      expect(outcome.inserted).toBe(47);
      expect(outcome.stored).toHaveLength(47);
      expect(outcome.deadLettered).toBe(2);
      expect(store.rows.size).toBe(47);
      expect(store.rows.has(dedupKey('other', 'o8'))).toBe(true);
      expect(dlq.letters.map((l) => [l.tenant, l.event?.id, l.reason])).toEqual([
        ['acme', 'a7', 'STORE_REFUSED'],
        ['acme', 'a31', 'STORE_REFUSED'],
      ]);
      expect(dlq.letters[0]?.message).toBe("ClickHouse refused the event: Value passed to 'throwIf' function is non zero (a7)");
      // Bisection: a bounded number of inserts, not one per event.
      expect(store.inserts).toBeLessThan(30);

      // Redelivered after the isolation (e.g. the ack was lost): the stored ones are found, the refused again refused.
      const again = await writer.write(batch(), { isolateRefusals: true });
      expect(again.inserted).toBe(0);
      expect(again.existing).toHaveLength(47);
      expect(store.rows.size).toBe(47);
    });

    it('a transient failure during isolation fails the write (retried later), never dead-letters', async () => {
      const store = new MemoryStore();
      store.transientFailure = true;
      const dlq = new MemoryDeadLetters();
      const writer = new BatchWriter(store, dlq, acceptAll);
      await expect(writer.write(batch(), { isolateRefusals: true })).rejects.toMatchObject({ transient: true });
      expect(dlq.letters).toEqual([]);
    });
  });
});
