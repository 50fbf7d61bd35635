import { jetstream } from '@nats-io/jetstream';
import {
  encodeEventRows,
  identifier,
  insertEvents,
  serializeEventRows,
  sql,
  type ClickHouse,
  type EventRow,
} from '@tally/clickhouse';
import { eventFingerprint, normalizeBatch, type UsageEvent } from '@tally/event-schema';
import { toEventRow } from '@tally/ingest';
import { encodeBatchMessage } from '@tally/ingest-protocol';
import { deleteStreams, ensureStreams, natsNames, type NatsConnection } from '@tally/nats';
import { randomPrefix } from '@tally/testing';
import type { BatchFactory } from '../loadgen';

/**
 * The same events the bench sends, as the pipeline holds them after the gateway: normalised
 * `UsageEvent`s, one array per request. Built once, outside any timed section.
 */
export function sampleBatches(factory: BatchFactory, count: number): UsageEvent[][] {
  const nowMs = Date.now();
  return Array.from({ length: count }, () => normalizeBatch(JSON.parse(factory.next().body), 'auto', { nowMs, maxBatch: 100_000 }).events);
}

export interface JetStreamBaseline {
  eventsPerSecond: number;
  messagesPerSecond: number;
  messages: number;
  events: number;
  seconds: number;
  messageBytes: number;
  inFlight: number;
}

/**
 * Raw JetStream publish: the gateway's batch messages (`encodeBatchMessage` of 100 events, one
 * message per request, each with a Nats-Msg-Id like the gateway's) published to a stream configured
 * like Tally's, `inFlight` publishes awaiting their acks at any time, for `seconds`. No HTTP, no
 * validation, no consumer: the most the stream takes on this machine.
 */
export async function jetstreamBaseline(
  nc: NatsConnection,
  batches: UsageEvent[][],
  { seconds, inFlight = 64 }: { seconds: number; inFlight?: number },
): Promise<JetStreamBaseline> {
  const names = natsNames(randomPrefix('b'));
  await ensureStreams(nc, names);
  try {
    const payloads = batches.map((events) => encodeBatchMessage({ v: 3, tenant: 'bench', receivedAt: Date.now(), events }));
    const js = jetstream(nc, { timeout: 30_000 });
    const subject = names.eventsSubject('bench');
    let messages = 0;
    let events = 0;
    let bytes = 0;
    let next = 0;
    const started = performance.now();
    const end = started + seconds * 1000;
    const lane = async () => {
      while (performance.now() < end) {
        const i = next++;
        const payload = payloads[i % payloads.length];
        await js.publish(subject, payload, { msgID: `b-${i}` });
        messages++;
        events += batches[i % batches.length].length;
        bytes += payload.byteLength;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    const elapsed = (performance.now() - started) / 1000;
    return {
      eventsPerSecond: Math.round(events / elapsed),
      messagesPerSecond: Math.round(messages / elapsed),
      messages,
      events,
      seconds: Math.round(elapsed * 100) / 100,
      messageBytes: Math.round(bytes / Math.max(1, messages)),
      inFlight,
    };
  } finally {
    await deleteStreams(nc, names);
  }
}

export interface ClickHouseBaseline {
  eventsPerSecond: number;
  events: number;
  seconds: number;
  rowsPerInsert: number;
  format: 'JSONEachRow' | 'RowBinary';
  /** Share of the time spent building the body in Node (the rest is the server). */
  serializeShare: number;
  bytesPerRow: number;
}

/**
 * Raw ClickHouse insert: the same events as `events` rows (`toEventRow`, fingerprints computed
 * beforehand), stored over HTTP into a plain MergeTree copy of `events`, without the dedup view,
 * in inserts of `rowsPerInsert` one after the other (`insertEvents`): as JSONEachRow (the issue's
 * baseline) or as RowBinary (the format the writer sends).
 */
export async function clickhouseBaseline(
  ch: ClickHouse,
  batches: UsageEvent[][],
  {
    totalRows,
    rowsPerInsert = 100_000,
    format = 'JSONEachRow',
  }: { totalRows: number; rowsPerInsert?: number; format?: 'JSONEachRow' | 'RowBinary' },
): Promise<ClickHouseBaseline> {
  const database = `${ch.database}_raw`;
  const receivedAt = Date.now();
  const pool: EventRow[] = batches
    .flat()
    .map((event) => toEventRow({ tenant: 'bench', event, fingerprint: eventFingerprint(event), receivedAt }));
  const rows = Array.from({ length: Math.min(rowsPerInsert, totalRows) }, (_, i) => pool[i % pool.length]);
  await ch.command(sql`CREATE DATABASE IF NOT EXISTS ${identifier(database)}`);
  try {
    // Same columns, same MergeTree engine and sort key; no materialized view hangs off the copy.
    await ch.command(sql`CREATE TABLE ${identifier(database, 'events')} AS ${identifier(ch.database, 'events')}`);
    const serializeStarted = performance.now();
    const bytesPerRow =
      (format === 'JSONEachRow' ? Buffer.byteLength(serializeEventRows(rows)) : encodeEventRows(rows).length) / rows.length;
    const serializeMs = performance.now() - serializeStarted;
    let stored = 0;
    const started = performance.now();
    while (stored < totalRows) {
      const batch = totalRows - stored >= rows.length ? rows : rows.slice(0, totalRows - stored);
      await insertEvents(ch, database, batch, { format });
      stored += batch.length;
    }
    const elapsed = (performance.now() - started) / 1000;
    const inserts = Math.ceil(totalRows / rows.length);
    return {
      eventsPerSecond: Math.round(stored / elapsed),
      events: stored,
      seconds: Math.round(elapsed * 100) / 100,
      rowsPerInsert: rows.length,
      format,
      serializeShare: Math.round(((serializeMs * inserts) / 1000 / elapsed) * 100) / 100,
      bytesPerRow: Math.round(bytesPerRow),
    };
  } finally {
    await ch.command(sql`DROP DATABASE IF EXISTS ${identifier(database)}`);
  }
}
