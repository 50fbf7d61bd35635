import { randomFillSync } from 'node:crypto';

/*
 * UUIDv7 (RFC 9562) for events sent without an idempotency key. Written here rather than calling
 * `uuid`'s v7() because that costs ~0.9 µs per id (more than validating the event) and reads the
 * clock; this one takes the receipt time it is given and costs a fraction of that.
 *
 * Layout: 48-bit Unix ms | ver 7 | 31-bit counter (12 bits rand_a + 19 bits of rand_b, RFC 9562
 * §6.2 method 1) | 43 random bits. The counter starts at a random value below 2^30 whenever the
 * millisecond advances and increments otherwise, so ids from one process are strictly increasing
 * even when many share a millisecond or the given time goes backwards.
 */

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push((i + 0x100).toString(16).slice(1));

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolPos = POOL_SIZE;

let lastMs = -1;
let counter = 0;

function random32(): number {
  if (poolPos > POOL_SIZE - 4) {
    randomFillSync(pool);
    poolPos = 0;
  }
  const v = pool.readUInt32LE(poolPos);
  poolPos += 4;
  return v;
}

const MAX_MS = 2 ** 48 - 1;

/** A new UUIDv7 string for time `ms` (epoch milliseconds), monotonic within this process. */
export function uuidV7(ms: number): string {
  ms = Math.floor(ms);
  if (!(ms >= 0 && ms <= MAX_MS)) throw new RangeError(`uuidV7: time ${ms} out of range`);
  if (ms > lastMs) {
    lastMs = ms;
    counter = random32() >>> 2; // < 2^30: leaves room to count up within the millisecond
  } else if (++counter > 0x7fffffff) {
    if (++lastMs > MAX_MS) throw new RangeError('uuidV7: time out of range'); // 2^31 ids in one ms: borrow the next
    counter = random32() >>> 2;
  }
  const t = lastMs;
  const hi = Math.floor(t / 0x100000000); // top 16 bits
  const lo = t >>> 0; // low 32 bits
  const c = counter;
  const r = random32();
  const r2 = random32();
  return (
    HEX[(hi >>> 8) & 0xff] +
    HEX[hi & 0xff] +
    HEX[lo >>> 24] +
    HEX[(lo >>> 16) & 0xff] +
    '-' +
    HEX[(lo >>> 8) & 0xff] +
    HEX[lo & 0xff] +
    '-' +
    HEX[0x70 | ((c >>> 27) & 0x0f)] +
    HEX[(c >>> 19) & 0xff] +
    '-' +
    HEX[0x80 | ((c >>> 13) & 0x3f)] +
    HEX[(c >>> 5) & 0xff] +
    '-' +
    HEX[((c & 0x1f) << 3) | (r & 0x07)] +
    HEX[(r >>> 8) & 0xff] +
    HEX[(r >>> 16) & 0xff] +
    HEX[r >>> 24] +
    HEX[r2 & 0xff] +
    HEX[(r2 >>> 8) & 0xff]
  );
}
