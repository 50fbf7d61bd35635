import type { UsageEvent } from '@tally/event-schema';

/**
 * What the gateway publishes to JetStream: one message per accepted request. A request is atomic,
 * so one message keeps it atomic on the stream too and costs one publish instead of one per event.
 */
export interface IngestBatchMessage {
  v: 1;
  tenant: string;
  /** Receipt time at the gateway, epoch ms: the start of the receipt-to-queryable latency. */
  receivedAt: number;
  events: UsageEvent[];
}

export function encodeBatchMessage(message: IngestBatchMessage): Uint8Array {
  return Buffer.from(JSON.stringify(message));
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
  const m = parsed as Partial<IngestBatchMessage>;
  if (!m || m.v !== 1 || typeof m.tenant !== 'string' || typeof m.receivedAt !== 'number' || !Array.isArray(m.events)) {
    return { ok: false, reason: 'payload is not an ingest batch (v, tenant, receivedAt, events)' };
  }
  for (const e of m.events) {
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
