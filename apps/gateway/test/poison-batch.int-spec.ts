import { sql } from '@tally/clickhouse';
import { listDeadLetters } from '@tally/ingest-protocol';
import { waitFor } from '@tally/testing';
import { IngestionHarness } from './ingestion-harness';

const events = (prefix: string, n: number, customer: (i: number) => string) => ({
  events: Array.from({ length: n }, (_, i) => ({
    eventId: `${prefix}-${i}`,
    customerId: customer(i),
    metricName: 'calls',
    quantity: '1',
  })),
});

/**
 * A batch holding an event that ClickHouse refuses must not stop the stream. The refusal is real:
 * the test database's `events` gets a column whose value ClickHouse computes per row and refuses for
 * one customer (`throwIf`, error 395: not transient), as a guard column or a stricter type added by an
 * operator would. Gateway and writer are real processes.
 */
describe('poison batches (real ClickHouse refusing one event)', () => {
  it('dead-letters exactly the refused event with its error, stores the rest, other tenants flow', async () => {
    const h = await new IngestionHarness({ startWriter: false }).start();
    try {
      const poison = await h.tenant('poisonco');
      const clean = await h.tenant('cleanco');
      await h.db.client.command(
        sql`ALTER TABLE ${h.db.client.table('events')} ADD COLUMN guard UInt8 MATERIALIZED throwIf(customer = 'refused-customer')`,
      );

      // One backlog, one batch: 30 events of poisonco (one refused) and 20 of cleanco.
      expect((await h.post(events('p', 30, (i) => (i === 17 ? 'refused-customer' : `c${i % 3}`)), poison.ingestKey)).status).toBe(202);
      expect((await h.post(events('k', 20, (i) => `c${i % 4}`), clean.ingestKey)).status).toBe(202);

      await h.startWriter({ WRITER_MAX_REFUSALS: '2' });
      // Sent while the writer is busy with the poison batch: stored as well.
      expect((await h.post(events('k2', 10, () => 'late'), clean.ingestKey)).status).toBe(202);

      await h.waitForDrained(60_000);
      expect((await h.total('poisonco')).events).toBe('29');
      expect((await h.total('cleanco')).events).toBe('30');
      expect((await h.rows('poisonco')).some((r) => r.event_id === 'p-17')).toBe(false);

      const letters = await waitFor(
        async () => {
          const { letters } = await listDeadLetters(h.nc, h.names, { tenant: 'poisonco', limit: 10 });
          return letters.length ? letters : undefined;
        },
        { what: 'the dead letter' },
      );
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        reason: 'STORE_REFUSED',
        tenant: 'poisonco',
        event: { id: 'p-17', customer: 'refused-customer' },
      });
      expect(letters[0]?.message).toMatch(/throwIf/);
      expect((await listDeadLetters(h.nc, h.names, { tenant: 'cleanco', limit: 10 })).letters).toEqual([]);
    } finally {
      await h.stop();
    }
  }, 120_000);
});
