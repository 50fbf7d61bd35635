import * as crypto from 'node:crypto';
import { Utf8Writer, writeFingerprintInput } from '@tally/event-schema';
import { encodeBatchMessage, type IngestBatchMessage } from './batch-message';

// Message ids are computed synchronously: one writer serves every request.
const messageIdText = new Utf8Writer(64 * 1024);

/**
 * Message id of a batch: tenant plus a digest of every event's key and fingerprint input (what
 * `eventFingerprint` hashes), so a client retrying the same request is recognised by JetStream,
 * while a different batch is not. One digest over one text rather than a digest per event: this
 * runs for every request, and per-event hashing was an eighth of the gateway's CPU. The text is
 * unambiguous: ids are printable ASCII (never NUL) and fingerprint inputs are length-prefixed. It
 * is the UTF-8 of `id NUL fingerprintInput LF` per event, written into a buffer rather than built as
 * a string (see Utf8Writer).
 */
export function batchMessageId(batch: IngestBatchMessage): string {
  const text = messageIdText;
  text.reset();
  for (const e of batch.events) {
    text.text(e.id);
    text.byte(0);
    writeFingerprintInput(e, text);
    text.byte(10); // LF
  }
  return `${batch.tenant}:${sha256Base64url(text.bytes())}`;
}

/** One-shot `crypto.hash` (Node >= 20.12) skips the Hash object; `createHash` otherwise. */
const oneShotHash = (
  crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'base64url') => string }
).hash;
const sha256Base64url: (data: Uint8Array) => string =
  typeof oneShotHash === 'function'
    ? (data) => oneShotHash('sha256', data, 'base64url')
    : (data) => crypto.createHash('sha256').update(data).digest('base64url');

/**
 * Encodes a batch as one message, or several when it exceeds the server's max_payload. The gateway
 * and a dead-letter replay publish the parts under one message id (`batchMessageId` of the whole batch).
 */
export function splitToFit(batch: IngestBatchMessage, maxPayload: number): Uint8Array[] {
  return splitEncoded(batch.events, (events) => ({ ...batch, events }), encodeBatchMessage, maxPayload);
}

/**
 * A message of `items` (events, data points) encoded as one payload, or, when that exceeds the
 * server's max_payload, as the parts of its halves, recursively; a single item is never split.
 */
export function splitEncoded<I, M>(
  items: I[],
  messageOf: (items: I[]) => M,
  encode: (message: M) => Uint8Array,
  maxPayload: number,
): Uint8Array[] {
  const encoded = encode(messageOf(items));
  // Headers and the msg id ride along; keep a margin below the limit.
  if (encoded.byteLength <= maxPayload - 4096 || items.length <= 1) return [encoded];
  const middle = Math.ceil(items.length / 2);
  return [
    ...splitEncoded(items.slice(0, middle), messageOf, encode, maxPayload),
    ...splitEncoded(items.slice(middle), messageOf, encode, maxPayload),
  ];
}
