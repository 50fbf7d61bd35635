import type { UsageEvent } from '@tally/event-schema';

/**
 * What the gateway publishes to JetStream: one message per accepted request. A request is atomic,
 * so one message keeps it atomic on the stream too and costs one publish instead of one per event.
 *
 * `v` is the wire encoding. 1: each event is a JSON object (`UsageEvent`). 2, what the gateway
 * publishes: each event is a tuple (see `EventTuple`), half the bytes of 1, which the gateway
 * writes, JetStream stores and the writer parses for every event. The writer decodes both, so
 * messages published before an upgrade are still stored.
 */
export interface IngestBatchMessage {
  v: 1 | 2;
  tenant: string;
  /** Receipt time at the gateway, epoch ms: the start of the receipt-to-queryable latency. */
  receivedAt: number;
  events: UsageEvent[];
}

/** An event on the wire in encoding 2: `UsageEvent` fields by position, the two flags as bits. */
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

const ID_GENERATED = 1;
const TS_GENERATED = 2;

function toTuple(e: UsageEvent): EventTuple {
  const flags = (e.idGenerated ? ID_GENERATED : 0) | (e.tsGenerated ? TS_GENERATED : 0);
  return [e.id, e.ts, e.customer, e.type, e.quantity, e.properties, e.source, e.schemaVersion, e.requestId, flags];
}

export function encodeBatchMessage(message: IngestBatchMessage): Uint8Array {
  if (message.v === 1) return Buffer.from(JSON.stringify(message));
  return Buffer.from(
    JSON.stringify({ v: 2, tenant: message.tenant, receivedAt: message.receivedAt, events: message.events.map(toTuple) }),
  );
}

export type DecodeResult = { ok: true; message: IngestBatchMessage } | { ok: false; reason: string };

/** The writer trusts nothing it reads back: a message that does not decode is dead-lettered, not retried. */
export function decodeBatchMessage(data: Uint8Array): DecodeResult {
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
