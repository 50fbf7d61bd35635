import {
  RowBinaryReader,
  RowBinaryWriter,
  readEventFields,
  readEventFieldsSummary,
  writeEventFields,
} from '@tally/clickhouse';
import { EVENT_FLAG_BITS, eventFingerprint, type UsageEvent } from '@tally/event-schema';

/**
 * What the gateway publishes to JetStream: one message per accepted request. A request is atomic,
 * so one message keeps it atomic on the stream too and costs one publish instead of one per event.
 *
 * `v` is the wire encoding. 1: JSON, each event an object (`UsageEvent`). 2: JSON, each event a
 * tuple (see `EventTuple`), half the bytes of 1. 3, what the gateway publishes: binary, each event's
 * `events` columns already in ClickHouse's RowBinary plus its fingerprint (see `encodeBinaryBatch`),
 * so the writer copies bytes into its insert instead of parsing JSON and serialising rows (which,
 * with the garbage they left, were two thirds of its CPU). The writer reads all three, so messages
 * published before an upgrade are still stored.
 */
export interface IngestBatchMessage {
  v: 1 | 2 | 3;
  tenant: string;
  /** Receipt time at the gateway, epoch ms: the start of the receipt-to-queryable latency. */
  receivedAt: number;
  events: UsageEvent[];
}

/**
 * An event on the wire in encoding 2: `UsageEvent` fields by position (`EVENT_TUPLE_FIELDS` of
 * @tally/event-schema's `EVENT_FIELDS`, the one definition of that order; batch-message.spec.ts checks
 * `toTuple` and the decoder against it), the two flags as bits (`EVENT_FLAG_BITS`).
 */
type EventTuple = [
  id: string,
  ts: number,
  customer: string,
  type: string,
  quantity: string,
  properties: Record<string, string>,
  source: string,
  schemaVersion: string,
  requestId: string,
  /** bit 0: idGenerated, bit 1: tsGenerated */
  flags: number,
];

const ID_GENERATED = EVENT_FLAG_BITS.idGenerated;
const TS_GENERATED = EVENT_FLAG_BITS.tsGenerated;

function toTuple(e: UsageEvent): EventTuple {
  const flags = (e.idGenerated ? ID_GENERATED : 0) | (e.tsGenerated ? TS_GENERATED : 0);
  return [e.id, e.ts, e.customer, e.type, e.quantity, e.properties, e.source, e.schemaVersion, e.requestId, flags];
}

export function encodeBatchMessage(message: IngestBatchMessage): Uint8Array {
  if (message.v === 3) return encodeBinaryBatch(message.tenant, message.receivedAt, message.events);
  if (message.v === 1) return Buffer.from(JSON.stringify(message));
  return Buffer.from(
    JSON.stringify({ v: 2, tenant: message.tenant, receivedAt: message.receivedAt, events: message.events.map(toTuple) }),
  );
}

export type DecodeResult = { ok: true; message: IngestBatchMessage } | { ok: false; reason: string };

/** The writer trusts nothing it reads back: a message that does not decode is dead-lettered, not retried. */
export function decodeBatchMessage(data: Uint8Array): DecodeResult {
  if (data[0] === BINARY_BATCH) {
    const read = readBinaryBatch(data);
    if (!read.ok) return read;
    const { tenant, receivedAt, events } = read.batch;
    return { ok: true, message: { v: 3, tenant, receivedAt, events: events.map(usageEventOf) } };
  }
  return decodeJsonBatch(data);
}

function decodeJsonBatch(data: Uint8Array): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  const m = parsed as { v?: unknown; tenant?: unknown; receivedAt?: unknown; events?: unknown };
  if (!m || (m.v !== 1 && m.v !== 2) || typeof m.tenant !== 'string' || typeof m.receivedAt !== 'number' || !Array.isArray(m.events)) {
    return { ok: false, reason: 'payload is not an ingest batch (v, tenant, receivedAt, events)' };
  }
  if (m.v === 1) {
    for (const e of m.events as Partial<UsageEvent>[]) {
      if (
        !e ||
        typeof e.id !== 'string' ||
        typeof e.ts !== 'number' ||
        typeof e.customer !== 'string' ||
        typeof e.type !== 'string' ||
        typeof e.quantity !== 'string' ||
        typeof e.properties !== 'object'
      ) {
        return { ok: false, reason: 'an event of the batch lacks id, ts, customer, type, quantity or properties' };
      }
    }
    return { ok: true, message: m as IngestBatchMessage };
  }
  const tuples = m.events as unknown[];
  const events = new Array<UsageEvent>(tuples.length);
  for (let i = 0; i < tuples.length; i++) {
    const t = tuples[i] as EventTuple;
    if (
      !Array.isArray(t) ||
      t.length !== 10 ||
      typeof t[0] !== 'string' ||
      typeof t[1] !== 'number' ||
      typeof t[2] !== 'string' ||
      typeof t[3] !== 'string' ||
      typeof t[4] !== 'string' ||
      t[5] === null ||
      typeof t[5] !== 'object' ||
      Array.isArray(t[5]) ||
      typeof t[6] !== 'string' ||
      typeof t[7] !== 'string' ||
      typeof t[8] !== 'string' ||
      typeof t[9] !== 'number'
    ) {
      return { ok: false, reason: `event ${i} of the batch is not an event tuple (id, ts, customer, type, quantity, properties, source, schemaVersion, requestId, flags)` };
    }
    // Same key order as normalizeBatch's events: one hidden class for all of them.
    events[i] = {
      id: t[0],
      idGenerated: (t[9] & ID_GENERATED) !== 0,
      ts: t[1],
      tsGenerated: (t[9] & TS_GENERATED) !== 0,
      customer: t[2],
      type: t[3],
      quantity: t[4],
      properties: t[5],
      source: t[6],
      schemaVersion: t[7],
      requestId: t[8],
    };
  }
  return { ok: true, message: { v: 2, tenant: m.tenant, receivedAt: m.receivedAt, events } };
}

/*
 * Encoding 3, binary. JSON messages start with `{`; a binary one with the byte 3, then:
 *   tenant (RowBinary string) · receivedAt (float64, epoch ms) · event count (LEB128) · per event:
 *   flags (uint8: bit 0 idGenerated, bit 1 tsGenerated) · fingerprint (string) ·
 *   byte length of the fields (uint32) · the fields (`writeEventFields`: the `events` columns
 *   customer .. request_id in RowBinary).
 */
const BINARY_BATCH = 3;

// One scratch buffer per process: encoding is synchronous, and each message is copied out of it.
const scratch = new RowBinaryWriter(64 * 1024);

function encodeBinaryBatch(tenant: string, receivedAt: number, events: readonly UsageEvent[]): Buffer {
  const out = scratch;
  out.reset();
  out.uint8(BINARY_BATCH);
  out.string(tenant);
  out.float64(receivedAt);
  out.varUInt(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    out.uint8((e.idGenerated ? ID_GENERATED : 0) | (e.tsGenerated ? TS_GENERATED : 0));
    out.string(eventFingerprint(e));
    const lengthAt = out.length;
    out.uint32(0);
    writeEventFields(out, e, i);
    out.patchUInt32(lengthAt, out.length - lengthAt - 4);
  }
  return Buffer.from(out.bytes());
}

/**
 * One event of a binary batch as the writer handles it: what it checks, where its bytes are, and
 * its message's tenant and receipt time. One object per event and nothing else: the writer holds
 * a whole batch of them (tens of thousands) while ClickHouse answers.
 */
export interface EncodedEvent {
  tenant: string;
  /** Receipt time at the gateway, epoch ms. */
  receivedAt: number;
  id: string;
  customer: string;
  /** Epoch milliseconds. */
  ts: number;
  fingerprint: string;
  flags: number;
  /** The message the fields are in, and their place: `writeEventFields` bytes `[start, end)`. */
  data: Buffer;
  start: number;
  end: number;
}

export interface EncodedBatch {
  tenant: string;
  receivedAt: number;
  events: EncodedEvent[];
}

export type ReadBatchResult = { ok: true; batch: EncodedBatch } | { ok: false; reason: string };

/**
 * A batch message of any encoding as `EncodedEvent`s. Binary messages are walked field by field
 * (a corrupt one fails here, before anything is inserted); JSON ones (1, 2) are decoded and
 * encoded again first.
 */
export function readEncodedBatch(data: Uint8Array): ReadBatchResult {
  if (data[0] === BINARY_BATCH) return readBinaryBatch(data);
  const decoded = decodeJsonBatch(data);
  if (!decoded.ok) return decoded;
  const { tenant, receivedAt, events } = decoded.message;
  let encoded: Buffer;
  try {
    encoded = encodeBinaryBatch(tenant, receivedAt, events);
  } catch (error) {
    return { ok: false, reason: `an event of the batch cannot be stored: ${(error as Error).message}` };
  }
  return readBinaryBatch(encoded);
}

function readBinaryBatch(data: Uint8Array): ReadBatchResult {
  const reader = new RowBinaryReader(data);
  let index = -1;
  try {
    reader.uint8();
    const tenant = reader.string();
    const receivedAt = reader.float64();
    if (!Number.isInteger(receivedAt) || receivedAt < 0) return { ok: false, reason: `receivedAt ${receivedAt} is not epoch milliseconds` };
    const count = reader.varUInt();
    if (count > data.byteLength) return { ok: false, reason: `event count ${count} exceeds the message` };
    const events = new Array<EncodedEvent>(count);
    for (index = 0; index < count; index++) {
      const flags = reader.uint8();
      const fingerprint = reader.string();
      const length = reader.uint32();
      const start = reader.position;
      // Same property order for every event: one hidden class.
      const event: EncodedEvent = { tenant, receivedAt, id: '', customer: '', ts: 0, fingerprint, flags, data: reader.data, start, end: 0 };
      readEventFieldsSummary(reader, event);
      if (reader.position !== start + length) return { ok: false, reason: `event ${index} of the batch: fields are ${reader.position - start} bytes, not ${length}` };
      event.end = reader.position;
      events[index] = event;
    }
    if (!reader.done) return { ok: false, reason: 'bytes follow the last event of the batch' };
    return { ok: true, batch: { tenant, receivedAt, events } };
  } catch (error) {
    const where = index < 0 ? 'header' : `event ${index}`;
    return { ok: false, reason: `binary batch is corrupt at its ${where}: ${(error as Error).message}` };
  }
}

/** The whole event (for dead letters and replays): decodes its fields again. */
export function usageEventOf(e: EncodedEvent): UsageEvent {
  const fields = readEventFields(new RowBinaryReader(e.data, e.start, e.end));
  return {
    id: fields.id,
    idGenerated: (e.flags & ID_GENERATED) !== 0,
    ts: fields.ts,
    tsGenerated: (e.flags & TS_GENERATED) !== 0,
    customer: fields.customer,
    type: fields.type,
    quantity: fields.quantity,
    properties: { ...fields.properties },
    source: fields.source,
    schemaVersion: fields.schemaVersion,
    requestId: fields.requestId,
  };
}
