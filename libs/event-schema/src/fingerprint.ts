import * as crypto from 'node:crypto';
import type { UsageEvent } from './types';

/** One-shot `crypto.hash` (Node ≥ 20.12) avoids the Hash object; `createHash` otherwise. */
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'hex') => string }).hash;
const sha1Hex: (data: Uint8Array) => string =
  typeof oneShot === 'function'
    ? (data) => oneShot('sha1', data, 'hex')
    : (data) => crypto.createHash('sha1').update(data).digest('hex');

/*
 * Fingerprint inputs are only ever hashed, so they are written as UTF-8 into a reusable buffer
 * rather than built as strings. A string built by concatenation is a tree of one node per piece
 * (some twenty per event) that the hash must flatten first: that was most of the gateway's garbage
 * and a third of its hashing time. A record's room is reserved once, then its pieces are written
 * at a local offset, which made the writing twice as fast as a capacity check per piece. The
 * helpers live in this module because cross-module calls in the compiled CommonJS go through an
 * export getter each, which cost as much again.
 */

/**
 * A reusable buffer of UTF-8 text: the bytes of `Buffer.from(a + b + ...)` without the string.
 * Out-of-range writes into a Buffer are silently dropped: what is written must fit the room reserved.
 */
export class Utf8Writer {
  buffer: Buffer;
  /** Bytes written so far: `buffer[0, end)`. */
  end = 0;

  constructor(private readonly initialCapacity = 4096) {
    this.buffer = Buffer.allocUnsafe(initialCapacity);
  }

  /** Empties the writer; a buffer grown far beyond the initial capacity is given back. */
  reset(): void {
    this.end = 0;
    if (this.buffer.length > Math.max(this.initialCapacity, 1 << 20))
      this.buffer = Buffer.allocUnsafe(this.initialCapacity);
  }

  /** Makes room for `bytes` more after `end` and returns the buffer to write them into. */
  reserve(bytes: number): Buffer {
    if (this.end + bytes > this.buffer.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.end + bytes));
      this.buffer.copy(next, 0, 0, this.end);
      this.buffer = next;
    }
    return this.buffer;
  }

  /** Appends `s` as UTF-8; a lone surrogate becomes U+FFFD, as in `Buffer.from(s)`. */
  text(s: string): void {
    this.end = putUtf8(this.reserve(utf8Bound(s)), this.end, s);
  }

  /** Appends one byte (an ASCII character by its code). */
  byte(value: number): void {
    this.reserve(1)[this.end++] = value;
  }

  /** What was written: a view of the buffer, valid until the next write or reset. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.end);
  }

  toString(): string {
    return this.buffer.toString('utf8', 0, this.end);
  }
}

/** Room `putUtf8` needs for `s`: at most 3 bytes per UTF-16 code unit. */
function utf8Bound(s: string): number {
  return s.length * 3;
}

/** Room `putDecimal` needs: `String(n)` of any number has at most 25 characters. */
const DECIMAL_BOUND = 25;

/** Writes `s` as UTF-8 at `at`; returns where it ends. */
function putUtf8(buf: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return at + buf.write(i === 0 ? s : s.slice(i), at, 'utf8');
    buf[at++] = c;
  }
  return at;
}

/** Writes `String(n)` at `at`; returns where it ends. Lengths and epoch milliseconds make no string. */
function putDecimal(buf: Buffer, at: number, n: number): number {
  if (n >= 0 && n <= 0x7fffffff && (n | 0) === n) {
    if (n >= 10) return putDigits(buf, at, n, 1);
    buf[at] = 48 + n;
    return at + 1;
  }
  if (!(n >= 0 && Number.isSafeInteger(n))) return putUtf8(buf, at, String(n));
  // Beyond int32 arithmetic: the digits above the last eight, then those eight.
  const high = Math.floor(n / 1e8);
  return putDigits(buf, putDigits(buf, at, high, 1), n - high * 1e8, 8);
}

/** The digits of an integer 0 <= x < 2^31, with leading zeros up to `width`. */
function putDigits(buf: Buffer, at: number, x: number, width: number): number {
  let digits = 1;
  for (let power = 10; power <= x; power *= 10) digits++;
  if (digits < width) digits = width;
  const end = at + digits;
  for (let i = end; i > at;) {
    const q = (x / 10) | 0;
    buf[--i] = 48 + x - q * 10;
    x = q;
  }
  return end;
}

/** `<length>:<s>`; room: DECIMAL_BOUND + 1 + utf8Bound(s). */
function putPrefixed(buf: Buffer, at: number, s: string): number {
  at = putDecimal(buf, at, s.length);
  buf[at++] = 58; // :
  return putUtf8(buf, at, s);
}

// The properties of the event being written, in key order: fingerprinting is synchronous, so one
// pair of arrays serves every call.
const keyScratch: string[] = [];
const valueScratch: string[] = [];

/**
 * Puts the properties of `p` in UTF-16 code-unit order of their keys into `keyScratch` and
 * `valueScratch` and returns how many there are: insertion sort for the usual handful (5x cheaper
 * than sort()), without arrays per event, and each value read where `for...in` makes that cheap.
 */
function sortProperties(p: Record<string, string>): number {
  const keys = keyScratch;
  const values = valueScratch;
  let n = 0;
  for (const k in p) {
    if (n === 16) return sortManyProperties(p);
    const v = p[k];
    let j = n++;
    while (j > 0 && keys[j - 1] > k) {
      keys[j] = keys[j - 1];
      values[j] = values[j - 1];
      j--;
    }
    keys[j] = k;
    values[j] = v;
  }
  return n;
}

function sortManyProperties(p: Record<string, string>): number {
  const sorted = Object.keys(p).sort();
  for (let i = 0; i < sorted.length; i++) {
    keyScratch[i] = sorted[i];
    valueScratch[i] = p[sorted[i]];
  }
  return sorted.length;
}

/**
 * The canonical serialisation hashed by {@link eventFingerprint}, as UTF-8 appended to `out`:
 * `f1|<ts or *>|` then `<length>:<value>` for customer, type and quantity, the number of properties
 * and `|`, and `<length>:<key><length>:<value>` per property in key order (lengths in UTF-16 code
 * units). Every string is length-prefixed, so no choice of separators inside values can make two
 * different events serialise alike. The fields and their order are `FINGERPRINT_FIELDS` of
 * `EVENT_FIELDS` (event-fields.ts); event-fields.spec.ts proves this unrolled writer follows them.
 */
export function writeFingerprintInput(e: UsageEvent, out: Utf8Writer): void {
  const count = sortProperties(e.properties);
  // Room for what follows: 5 numbers, 8 ASCII characters and 3 texts, then 2 numbers, 2 characters
  // and 2 texts per property.
  let room = 5 * DECIMAL_BOUND + 8 + utf8Bound(e.customer) + utf8Bound(e.type) + utf8Bound(e.quantity);
  for (let i = 0; i < count; i++)
    room += 2 * DECIMAL_BOUND + 2 + utf8Bound(keyScratch[i]) + utf8Bound(valueScratch[i]);
  const buf = out.reserve(room);
  let at = out.end;
  buf[at++] = 102; // f
  buf[at++] = 49; // 1
  buf[at++] = 124; // |
  if (e.tsGenerated === true) buf[at++] = 42; /* * */
  else at = putDecimal(buf, at, e.ts);
  buf[at++] = 124;
  at = putPrefixed(buf, at, e.customer);
  at = putPrefixed(buf, at, e.type);
  at = putPrefixed(buf, at, e.quantity);
  at = putDecimal(buf, at, count);
  buf[at++] = 124;
  for (let i = 0; i < count; i++) {
    at = putPrefixed(buf, at, keyScratch[i]);
    at = putPrefixed(buf, at, valueScratch[i]);
  }
  out.end = at;
}

// Fingerprinting is synchronous: one writer serves every call.
const scratch = new Utf8Writer();

/** {@link writeFingerprintInput} as a string. */
export function fingerprintInput(e: UsageEvent): string {
  scratch.reset();
  writeFingerprintInput(e, scratch);
  return scratch.toString();
}

/**
 * Stable SHA-1 hex of what an event means for billing: event time, customer, type, quantity and the
 * properties sorted by key. The id, its generation, the source and metadata are left out, as is a
 * receipt-time `ts` (`tsGenerated`), which differs between a request and its retry. The writer uses
 * it to tell a retry (same key, same fingerprint) from a conflict (same key, different fingerprint).
 *
 * Assumes normalised input (canonical quantity); "1.5" and "1.50" fingerprint differently.
 */
export function eventFingerprint(e: UsageEvent): string {
  scratch.reset();
  writeFingerprintInput(e, scratch);
  return sha1Hex(scratch.bytes());
}

/**
 * Positions of events whose id already appeared earlier in the same batch (the first occurrence
 * is not listed). Such events are kept as-is; the writer deduplicates and the gateway reports them.
 */
export function findDuplicateIdsInBatch(events: ReadonlyArray<Pick<UsageEvent, 'id'>>): number[] {
  const out: number[] = [];
  if (events.length < 2) return out;
  const seen = new Set<string>();
  for (let i = 0; i < events.length; i++) {
    const id = events[i].id;
    if (seen.has(id)) out.push(i);
    else seen.add(id);
  }
  return out;
}
