/**
 * ClickHouse's `RowBinary` input format, written into one growable buffer that is reused from batch
 * to batch. RowBinary is what the writer inserts: the server copies the values into its columns
 * without parsing text (JSONEachRow parsing was a third of ClickHouse's cost per event), and the
 * writer builds no intermediate strings or objects (JSON serialisation and the garbage it left were
 * half of the writer's). Values are validated here; a value that cannot be represented throws
 * `RowBinaryError` before anything is sent.
 */
import { TallyError } from '@tally/errors';
import { parseDecimalText } from './decimal-column';

export class RowBinaryError extends TallyError {
  constructor(message: string) {
    super('ROW_BINARY_INVALID', 500, message);
  }
}

const TWO_32 = 4_294_967_296;
const TWO_128 = 1n << 128n;
const LOW_64 = (1n << 64n) - 1n;
// Below this many integer digits, integer × 10^12 + fraction stays under 2^53: exact in a double.
const SMALL_INTEGER_DIGITS = 3;
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);
/** Strings up to this many UTF-16 units take at most 127 UTF-8 bytes: a one-byte length. */
const SHORT_STRING = 42;

export class RowBinaryWriter {
  private buffer: Buffer;
  private position = 0;

  constructor(initialBytes = 1 << 20) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.position;
  }

  /** Starts a new body; the memory is kept. */
  reset(): void {
    this.position = 0;
  }

  /** The bytes written since `reset()`; a view, valid until the next write or reset. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.position);
  }

  uint8(value: number): void {
    this.reserve(1);
    this.buffer[this.position++] = value;
  }

  uint16(value: number): void {
    this.reserve(2);
    this.position = this.buffer.writeUInt16LE(value, this.position);
  }

  uint32(value: number): void {
    this.reserve(4);
    this.position = this.buffer.writeUInt32LE(value, this.position);
  }

  /** A float64, little-endian: for epoch milliseconds in Tally's own messages (exact below 2^53). */
  float64(value: number): void {
    this.reserve(8);
    this.position = this.buffer.writeDoubleLE(value, this.position);
  }

  /** Bytes already in RowBinary (a row or some of its columns), copied as they are. */
  raw(source: Uint8Array, start: number, end: number): void {
    const length = end - start;
    this.reserve(length);
    this.buffer.set(source.subarray(start, end), this.position);
    this.position += length;
  }

  /** Overwrites 4 bytes written earlier, e.g. a length known only after what it measures. */
  patchUInt32(offset: number, value: number): void {
    if (offset + 4 > this.position) throw new RowBinaryError(`offset ${offset} is not inside what was written`);
    this.buffer.writeUInt32LE(value, offset);
  }

  /** LEB128, as RowBinary prefixes strings and arrays with. */
  varUInt(value: number): void {
    this.reserve(10);
    let v = value;
    while (v >= 0x80) {
      this.buffer[this.position++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buffer[this.position++] = v;
  }

  string(value: string): void {
    if (value.length <= SHORT_STRING) {
      // At most 3 UTF-8 bytes per UTF-16 unit: the length fits one byte, written after the text.
      this.reserve(1 + value.length * 3);
      const written = this.buffer.write(value, this.position + 1, 'utf8');
      this.buffer[this.position] = written;
      this.position += 1 + written;
      return;
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.varUInt(bytes);
    this.reserve(bytes);
    this.position += this.buffer.write(value, this.position, 'utf8');
  }

  /**
   * `Decimal(38, scale)` (a little-endian two's-complement Int128 of value × 10^scale) from exact
   * decimal text, `^-?\d+(\.\d+)?$`, without a float on the way. Returns an error message instead
   * of throwing so that callers can name the row and field.
   */
  decimal128(text: string, scale: number): string | undefined {
    const parts = parseDecimalText(text, scale);
    if (typeof parts === 'string') return parts;
    const { negative, integer, fraction } = parts;
    this.reserve(16);
    if (!negative && integer.length <= SMALL_INTEGER_DIGITS && scale <= 12) {
      const scaled = Number(integer) * POWERS_OF_TEN[scale] + (fraction ? Number(fraction) * POWERS_OF_TEN[scale - fraction.length] : 0);
      const low = scaled % TWO_32;
      this.buffer.writeUInt32LE(low, this.position);
      this.buffer.writeUInt32LE((scaled - low) / TWO_32, this.position + 4);
      this.buffer.fill(0, this.position + 8, this.position + 16);
    } else {
      let scaled = BigInt(integer + fraction.padEnd(scale, '0'));
      if (negative) scaled = (TWO_128 - scaled) % TWO_128;
      this.buffer.writeBigUInt64LE(scaled & LOW_64, this.position);
      this.buffer.writeBigUInt64LE(scaled >> 64n, this.position + 8);
    }
    this.position += 16;
    return undefined;
  }

  private reserve(bytes: number): void {
    const needed = this.position + bytes;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }
}

/**
 * Reads RowBinary (and Tally's messages built with `RowBinaryWriter`) from a buffer, checking every
 * length against its end: a truncated or corrupt input throws `RowBinaryError`, never reads past it.
 */
export class RowBinaryReader {
  private readonly buffer: Buffer;
  position: number;

  constructor(
    data: Uint8Array,
    start = 0,
    private readonly end = data.byteLength,
  ) {
    this.buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.position = start;
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  /** The underlying bytes, for `raw` copies of what was read. */
  get data(): Buffer {
    return this.buffer;
  }

  uint8(): number {
    this.need(1);
    return this.buffer[this.position++];
  }

  uint16(): number {
    this.need(2);
    const value = this.buffer.readUInt16LE(this.position);
    this.position += 2;
    return value;
  }

  uint32(): number {
    this.need(4);
    const value = this.buffer.readUInt32LE(this.position);
    this.position += 4;
    return value;
  }

  float64(): number {
    this.need(8);
    const value = this.buffer.readDoubleLE(this.position);
    this.position += 8;
    return value;
  }

  varUInt(): number {
    let value = 0;
    let factor = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.uint8();
      value += (byte & 0x7f) * factor;
      if (byte < 0x80) return value;
      factor *= 128;
    }
    throw new RowBinaryError('a length is longer than 8 bytes');
  }

  string(): string {
    const length = this.varUInt();
    this.need(length);
    const value = this.buffer.toString('utf8', this.position, this.position + length);
    this.position += length;
    return value;
  }

  skipString(): void {
    const length = this.varUInt();
    this.need(length);
    this.position += length;
  }

  stringArray(): string[] {
    const count = this.varUInt();
    // Each element takes at least one byte: a count beyond what is left is corrupt, not a huge array.
    this.need(count);
    const values = new Array<string>(count);
    for (let i = 0; i < count; i++) values[i] = this.string();
    return values;
  }

  skip(bytes: number): void {
    this.need(bytes);
    this.position += bytes;
  }

  /** `Decimal(38, scale)` as canonical decimal text: no leading zeros, no trailing fraction zeros. */
  decimal128(scale: number): string {
    this.need(16);
    let value = (this.buffer.readBigUInt64LE(this.position + 8) << 64n) | this.buffer.readBigUInt64LE(this.position);
    this.position += 16;
    const negative = value >= TWO_128 / 2n;
    if (negative) value = TWO_128 - value;
    let digits = value.toString().padStart(scale + 1, '0');
    let fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
    digits = digits.slice(0, digits.length - scale);
    if (scale === 0) fraction = '';
    const text = fraction ? `${digits}.${fraction}` : digits;
    return negative && text !== '0' ? `-${text}` : text;
  }

  private need(bytes: number): void {
    if (this.position + bytes > this.end) {
      throw new RowBinaryError(`needs ${bytes} more bytes at offset ${this.position}, has ${this.end - this.position}`);
    }
  }
}
