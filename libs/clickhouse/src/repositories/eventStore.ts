import { EVENT_FIELD_COLUMNS, type UsageEvent } from '@tally/event-schema';
import { TallyError } from '@tally/errors';
import type { ClickHouse, QueryOptions } from '../client';
import { parseDecimalText } from '../decimal-column';
import { findExistingEventIdsSql } from '../sql/existing-event-ids';
import { MAX_DATETIME_SECONDS, identifier } from '../sql/quote';
import { RowBinaryError, RowBinaryReader, RowBinaryWriter } from '../row-binary';

/**
 * One row of `events`, as the writer hands it over. Names are the camelCase of the columns.
 * Times are epoch seconds (numbers) so that no time-zone or text parsing is involved on either
 * server generation; the quantity is decimal text so that it never passes through a float.
 */
export interface EventRow {
  tenant: string;
  customer: string;
  eventType: string;
  /** Event time, whole epoch seconds (UTC), 1970-01-01 .. 2105-12-31. */
  ts: number;
  /** Milliseconds within `ts`, 0..999. */
  tsMs: number;
  eventId: string;
  /**
   * Exact decimal text, `^-?\d+(\.\d+)?$`, at most 26 integer and 12 fraction digits (Decimal(38, 12)).
   * Sent to ClickHouse as a bare JSON number: 18.16 refuses a quoted decimal in JSONEachRow, and
   * parses the bare digits exactly (no float on the way).
   */
  quantity: string;
  properties: Readonly<Record<string, string>>;
  source: string;
  schemaVersion: string;
  requestId: string;
  /** When Tally accepted the event, whole epoch seconds (UTC). */
  receivedAt: number;
  payloadHash: string;
}

/**
 * The columns an insert names: `tenant`, the event's own columns (`EVENT_FIELD_COLUMNS` of
 * @tally/event-schema's `EVENT_FIELDS`, the one definition of their order), then what the writer adds.
 * `inserted_at` is left out so that the server fills it (DEFAULT now()). event-columns.spec.ts checks
 * them against the DDL of `events` and the bytes every encoder below writes.
 */
export const EVENT_COLUMNS: readonly string[] = ['tenant', ...EVENT_FIELD_COLUMNS, 'received_at', 'payload_hash'];

/** A row the writer built wrongly (a bug upstream, not bad input: ingestion validates events first). */
export class EventRowError extends TallyError {
  constructor(
    readonly index: number,
    readonly field: string,
    message: string,
  ) {
    super('EVENT_ROW_INVALID', 500, `events row ${index}: ${field} ${message}`);
  }
}

const QUANTITY_SCALE = 12;
// 18.16 reads DateTime text only up to 2105-12-31 23:59:59; keep numbers to the same range.
const MAX_EPOCH_SECONDS = MAX_DATETIME_SECONDS;

function quantityJson(index: number, value: unknown): string {
  const parts = parseDecimalText(value, QUANTITY_SCALE);
  if (typeof parts === 'string') throw new EventRowError(index, 'quantity', parts);
  // JSON numbers have no leading zeros: `integer` has none.
  return `${parts.negative ? '-' : ''}${parts.integer}${parts.fraction ? '.' + parts.fraction : ''}`;
}

function epochSeconds(index: number, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_EPOCH_SECONDS) {
    throw new EventRowError(
      index,
      field,
      `must be whole epoch seconds between 0 and ${MAX_EPOCH_SECONDS}, got ${String(value)}`,
    );
  }
  return value;
}

function assertString(index: number, field: string, value: unknown): void {
  if (typeof value !== 'string')
    throw new EventRowError(index, field, `must be a string, got ${typeof value}`);
}

// Each line is JSON.stringify of an object whose first key is `quantity` with the placeholder 0, so
// the line starts with exactly this text; the placeholder is then swapped for the decimal's digits.
// (Native JSON.stringify for the rest is about twice as fast as assembling the line field by field.)
const QUANTITY_PLACEHOLDER = '{"quantity":0';

/**
 * The JSONEachRow body for `EVENT_COLUMNS`, one line per row. The quantity is written as bare digits,
 * which `JSON.stringify` alone cannot do without a float.
 */
export function serializeEventRows(rows: readonly EventRow[]): string {
  const lines = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    assertString(i, 'tenant', r.tenant);
    assertString(i, 'customer', r.customer);
    assertString(i, 'eventType', r.eventType);
    assertString(i, 'eventId', r.eventId);
    assertString(i, 'source', r.source);
    assertString(i, 'schemaVersion', r.schemaVersion);
    assertString(i, 'requestId', r.requestId);
    assertString(i, 'payloadHash', r.payloadHash);
    if (!Number.isInteger(r.tsMs) || r.tsMs < 0 || r.tsMs > 999) {
      throw new EventRowError(i, 'tsMs', `must be an integer 0..999, got ${String(r.tsMs)}`);
    }
    const quantity = quantityJson(i, r.quantity);
    const props = r.properties ?? {};
    const keys = Object.keys(props);
    const values = new Array<string>(keys.length);
    for (let k = 0; k < keys.length; k++) {
      const value = props[keys[k]];
      assertString(i, `properties.${keys[k]}`, value);
      values[k] = value;
    }
    const json = JSON.stringify({
      quantity: 0,
      tenant: r.tenant,
      customer: r.customer,
      event_type: r.eventType,
      ts: epochSeconds(i, 'ts', r.ts),
      ts_ms: r.tsMs,
      event_id: r.eventId,
      'properties.key': keys,
      'properties.value': values,
      source: r.source,
      schema_version: r.schemaVersion,
      request_id: r.requestId,
      received_at: epochSeconds(i, 'receivedAt', r.receivedAt),
      payload_hash: r.payloadHash,
    });
    lines[i] = '{"quantity":' + quantity + json.slice(QUANTITY_PLACEHOLDER.length);
  }
  return lines.join('\n');
}

/** The part of a `UsageEvent` that `events` stores: times in epoch ms, the quantity as exact decimal text. */
export type EventRowSource = Omit<UsageEvent, 'idGenerated' | 'tsGenerated'>;

/**
 * The columns of `events` that come from the event itself, `customer` to `request_id` (the middle
 * of `EVENT_COLUMNS`: `EVENT_FIELDS` of @tally/event-schema, in its order), in RowBinary. Unrolled
 * by hand for speed; event-columns.spec.ts decodes what it writes column by column from `EVENT_FIELDS`. The gateway encodes them once into its batch messages and the
 * writer copies the bytes into the insert between the `tenant` and the `received_at`, `payload_hash`
 * it adds: no event is parsed or serialised again on the way to ClickHouse. Throws `EventRowError`
 * (row `index`) for a value that cannot be stored.
 */
export function writeEventFields(out: RowBinaryWriter, event: EventRowSource, index: number): void {
  const ts = event.ts;
  if (typeof ts !== 'number' || !Number.isInteger(ts))
    throw new EventRowError(index, 'ts', `must be whole epoch milliseconds, got ${String(ts)}`);
  const tsMs = ts % 1000;
  text(out, index, 'customer', event.customer);
  text(out, index, 'eventType', event.type);
  epochSeconds(index, 'ts', (ts - tsMs) / 1000);
  out.uint32((ts - tsMs) / 1000);
  out.uint16(tsMs);
  text(out, index, 'eventId', event.id);
  if (typeof event.quantity !== 'string')
    throw new EventRowError(index, 'quantity', `must be decimal text, got ${typeof event.quantity}`);
  const bad = out.decimal128(event.quantity, QUANTITY_SCALE);
  if (bad) throw new EventRowError(index, 'quantity', bad);
  const props = event.properties ?? {};
  const keys = Object.keys(props);
  out.varUInt(keys.length);
  for (let k = 0; k < keys.length; k++) out.string(keys[k]);
  out.varUInt(keys.length);
  for (let k = 0; k < keys.length; k++) text(out, index, `properties.${keys[k]}`, props[keys[k]]);
  text(out, index, 'source', event.source);
  text(out, index, 'schemaVersion', event.schemaVersion);
  text(out, index, 'requestId', event.requestId);
}

/** What the writer needs of an event without decoding all of it. */
export interface EventFieldsSummary {
  customer: string;
  /** Epoch milliseconds. */
  ts: number;
  id: string;
}

/**
 * Reads the customer, time and id of one `writeEventFields` record into `into` (no object of its
 * own: the writer calls it for every event) and walks the rest, so that a corrupt record fails here
 * (`RowBinaryError`) and never reaches ClickHouse. Leaves the reader after the record.
 */
export function readEventFieldsSummary(reader: RowBinaryReader, into: EventFieldsSummary): void {
  into.customer = reader.string();
  reader.skipString(); // event_type
  const seconds = reader.uint32();
  const ms = reader.uint16();
  if (ms > 999) throw new RowBinaryError(`ts_ms ${ms} is not 0..999`);
  into.ts = seconds * 1000 + ms;
  into.id = reader.string();
  reader.skip(16);
  const keys = reader.varUInt();
  for (let k = 0; k < keys; k++) reader.skipString();
  if (reader.varUInt() !== keys) throw new RowBinaryError('properties have as many keys as values');
  for (let k = 0; k < keys; k++) reader.skipString();
  reader.skipString();
  reader.skipString();
  reader.skipString();
}

/** Decodes one `writeEventFields` record completely (dead letters, tools); the quantity comes back canonical. */
export function readEventFields(reader: RowBinaryReader): EventRowSource {
  const customer = reader.string();
  const type = reader.string();
  const seconds = reader.uint32();
  const ms = reader.uint16();
  if (ms > 999) throw new RowBinaryError(`ts_ms ${ms} is not 0..999`);
  const id = reader.string();
  const quantity = reader.decimal128(QUANTITY_SCALE);
  const keys = reader.stringArray();
  const values = reader.stringArray();
  if (keys.length !== values.length) throw new RowBinaryError('properties have as many keys as values');
  const properties: Record<string, string> = {};
  for (let k = 0; k < keys.length; k++) properties[keys[k]] = values[k];
  const source = reader.string();
  const schemaVersion = reader.string();
  const requestId = reader.string();
  return {
    id,
    ts: seconds * 1000 + ms,
    customer,
    type,
    quantity,
    properties,
    source,
    schemaVersion,
    requestId,
  };
}

/**
 * The `events` row of an event (seconds-based), for tools and tests that build rows themselves:
 * `EventRowsEncoder.appendRow` maps it back to the event's fields and writes the same bytes as
 * `appendEncoded` does for the gateway's `writeEventFields` record.
 */
export function toEventRow({
  tenant,
  event,
  fingerprint,
  receivedAt,
}: {
  tenant: string;
  event: EventRowSource;
  fingerprint: string;
  /** Epoch milliseconds. */
  receivedAt: number;
}): EventRow {
  return {
    tenant,
    customer: event.customer,
    eventType: event.type,
    ts: Math.floor(event.ts / 1000),
    tsMs: event.ts % 1000,
    eventId: event.id,
    quantity: event.quantity,
    properties: event.properties,
    source: event.source,
    schemaVersion: event.schemaVersion,
    requestId: event.requestId,
    receivedAt: Math.floor(receivedAt / 1000),
    payloadHash: fingerprint,
  };
}

function text(out: RowBinaryWriter, index: number, field: string, value: string): void {
  if (typeof value !== 'string')
    throw new EventRowError(index, field, `must be a string, got ${typeof value}`);
  out.string(value);
}

/**
 * Builds the `RowBinary` body of an insert into `events` (columns `EVENT_COLUMNS`), one row at a
 * time, into a buffer reused across batches. Every value is checked as it is written; a bad one
 * throws `EventRowError` naming the row and field (a bug upstream: ingestion validated the events).
 */
export class EventRowsEncoder {
  private readonly out: RowBinaryWriter;
  private rows = 0;

  constructor(initialBytes?: number) {
    this.out = new RowBinaryWriter(initialBytes);
  }

  reset(): void {
    this.out.reset();
    this.rows = 0;
  }

  /** The body so far; a view that the next append or reset overwrites. */
  body(): Buffer {
    return this.out.bytes();
  }

  /**
   * Appends a row whose event columns are already encoded (`writeEventFields` bytes `[start, end)` of
   * `fields`, as a gateway batch message carries them; `readEventFieldsSummary` checked them).
   */
  appendEncoded(
    tenant: string,
    fields: Uint8Array,
    start: number,
    end: number,
    receivedAtMs: number,
    payloadHash: string,
  ): void {
    const out = this.out;
    text(out, this.rows, 'tenant', tenant);
    out.raw(fields, start, end);
    this.finishRow(Math.floor(receivedAtMs / 1000), payloadHash);
  }

  appendRow(r: EventRow): void {
    if (!Number.isInteger(r.tsMs) || r.tsMs < 0 || r.tsMs > 999)
      throw new EventRowError(this.rows, 'tsMs', `must be an integer 0..999, got ${String(r.tsMs)}`);
    epochSeconds(this.rows, 'ts', r.ts);
    const event: EventRowSource = {
      id: r.eventId,
      ts: r.ts * 1000 + r.tsMs,
      customer: r.customer,
      type: r.eventType,
      quantity: r.quantity,
      properties: r.properties,
      source: r.source,
      schemaVersion: r.schemaVersion,
      requestId: r.requestId,
    };
    const out = this.out;
    text(out, this.rows, 'tenant', r.tenant);
    writeEventFields(out, event, this.rows);
    this.finishRow(r.receivedAt, r.payloadHash);
  }

  private finishRow(receivedAtSeconds: number, payloadHash: string): void {
    epochSeconds(this.rows, 'receivedAt', receivedAtSeconds);
    this.out.uint32(receivedAtSeconds);
    text(this.out, this.rows, 'payloadHash', payloadHash);
    this.rows++;
  }
}

/** The `RowBinary` body for `EVENT_COLUMNS`: what `insertEvents` sends. */
export function encodeEventRows(rows: readonly EventRow[]): Buffer {
  const encoder = new EventRowsEncoder(Math.max(1024, rows.length * 256));
  for (const row of rows) encoder.appendRow(row);
  return encoder.body();
}

/**
 * Stores a `RowBinary` body of `EVENT_COLUMNS` rows (built by `EventRowsEncoder`) with one INSERT;
 * the `event_ids_mv` view records every id in the same statement. An INSERT is atomic per block and
 * partition only: rows of several months become several parts, and the view writes `event_ids` after
 * `events`, so a failed insert may have stored part of the batch. Before retrying, ask
 * `findExistingIds` and send only the rows that are missing (a failure between an `events` part and
 * its `event_ids` rows is not visible to that check; it needs a query on `events` itself).
 */
export async function insertEventRowBinary(
  ch: ClickHouse,
  database: string,
  body: Buffer,
  options: QueryOptions = {},
): Promise<{ queryId?: string }> {
  if (body.length === 0) return {};
  const { queryId } = await ch.insertRowBinary(identifier(database, 'events'), EVENT_COLUMNS, body, {
    operation: 'insert events',
    ...options,
  });
  return { queryId };
}

/**
 * Stores the rows with one INSERT; see `insertEventRowBinary`. Validation happens before anything is
 * sent. `format: 'JSONEachRow'` sends `serializeEventRows` text instead of RowBinary: the format Tally
 * used before, kept as the benchmark's raw-insert baseline and for tools that want readable bodies.
 */
export async function insertEvents(
  ch: ClickHouse,
  database: string,
  rows: readonly EventRow[],
  { format = 'RowBinary', ...options }: QueryOptions & { format?: 'RowBinary' | 'JSONEachRow' } = {},
): Promise<{ rows: number; queryId?: string }> {
  if (rows.length === 0) return { rows: 0 };
  if (format === 'RowBinary') {
    const { queryId } = await insertEventRowBinary(ch, database, encodeEventRows(rows), options);
    return { rows: rows.length, queryId };
  }
  const { queryId } = await ch.insertJsonEachRow(
    identifier(database, 'events'),
    EVENT_COLUMNS,
    serializeEventRows(rows),
    {
      operation: 'insert events',
      ...options,
    },
  );
  return { rows: rows.length, queryId };
}

export interface EventKey {
  tenant: string;
  eventId: string;
}

/** The key of `findExistingIds`' map: tenant and event id joined by NUL (which neither may contain). */
export function eventKey(tenant: string, eventId: string): string {
  return `${tenant}\u0000${eventId}`;
}

/** Keys per query. 5,000 typical ids make a ~200-400 KB query (over 18.16's 256 KiB default, raised per query). */
export const FIND_IDS_CHUNK = 5_000;

/**
 * Which of `keys` are already stored, with the payload hash stored for each: the map's keys are
 * `eventKey(tenant, eventId)`. Reads `event_ids` with GROUP BY, which is exact whether or not the
 * ReplacingMergeTree has merged duplicates yet (FINAL would not be: it does not merge across the
 * monthly partitions, and a retried event may carry another timestamp). If one id was stored with
 * two hashes, the smallest is returned, so the answer is deterministic.
 */
export async function findExistingIds(
  ch: ClickHouse,
  database: string,
  keys: readonly EventKey[] | ReadonlyMap<string, readonly string[]>,
  options: QueryOptions = {},
  table = 'event_ids',
): Promise<Map<string, string>> {
  const byTenant = isIdsByTenant(keys) ? keys : groupByTenant(keys);
  const lookup = async (
    chunk: Map<string, string[]>,
  ): Promise<Array<{ tenant: string; event_id: string; payload_hash: string }>> => {
    return ch.query<{ tenant: string; event_id: string; payload_hash: string }>(
      findExistingEventIdsSql(database, chunk, table),
      { operation: 'find existing event ids', ...options },
    );
  };
  // Several chunks (a writer batch is tens of thousands of ids) are sent together: the server works
  // on them side by side instead of the caller waiting for each in turn.
  const results = await Promise.all(chunkIdsByTenant(byTenant, FIND_IDS_CHUNK).map(lookup));
  const found = new Map<string, string>();
  for (const rows of results)
    for (const row of rows) found.set(eventKey(row.tenant, row.event_id), row.payload_hash);
  return found;
}

function isIdsByTenant(
  keys: readonly EventKey[] | ReadonlyMap<string, readonly string[]>,
): keys is ReadonlyMap<string, readonly string[]> {
  return keys instanceof Map;
}

function groupByTenant(keys: readonly EventKey[]): Map<string, string[]> {
  const sets = new Map<string, Set<string>>();
  for (const { tenant, eventId } of keys) {
    let ids = sets.get(tenant);
    if (!ids) sets.set(tenant, (ids = new Set()));
    ids.add(eventId);
  }
  return new Map([...sets].map(([tenant, ids]) => [tenant, [...ids]]));
}

/** Splits tenant → ids into groups of at most `size` ids in all (one lookup query each). */
function chunkIdsByTenant(
  byTenant: ReadonlyMap<string, readonly string[]>,
  size: number,
): Map<string, string[]>[] {
  const result: Map<string, string[]>[] = [];
  let current = new Map<string, string[]>();
  let count = 0;
  for (const [tenant, ids] of byTenant) {
    for (let start = 0; start < ids.length;) {
      const take = Math.min(size - count, ids.length - start);
      current.set(tenant, ids.slice(start, start + take));
      count += take;
      start += take;
      if (count === size) {
        result.push(current);
        current = new Map();
        count = 0;
      }
    }
  }
  if (current.size) result.push(current);
  return result;
}
