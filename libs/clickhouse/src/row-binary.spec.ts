import { RowBinaryWriter } from './row-binary';

const hex = (w: RowBinaryWriter) => w.bytes().toString('hex');

function decimalBytes(text: string, scale = 12): string {
  const w = new RowBinaryWriter(4);
  const error = w.decimal128(text, scale);
  if (error) throw new Error(error);
  return hex(w);
}

/** The reference: value × 10^scale as a 128-bit two's complement, little-endian, computed with BigInt only. */
function reference(text: string, scale = 12): string {
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  let v = BigInt(whole + fraction.padEnd(scale, '0'));
  if (text.startsWith('-')) v = ((1n << 128n) - v) % (1n << 128n);
  const out = Buffer.alloc(16);
  out.writeBigUInt64LE(v & ((1n << 64n) - 1n), 0);
  out.writeBigUInt64LE(v >> 64n, 8);
  return out.toString('hex');
}

describe('RowBinaryWriter', () => {
  it('writes LEB128 lengths', () => {
    const w = new RowBinaryWriter(1);
    for (const n of [0, 1, 127, 128, 300, 16_384, 2 ** 32]) w.varUInt(n);
    expect(hex(w)).toBe('00' + '01' + '7f' + '8001' + 'ac02' + '808001' + '8080808010');
  });

  it('prefixes strings with their UTF-8 byte length, on both the short and the long path', () => {
    const w = new RowBinaryWriter(2);
    w.string('');
    w.string('é');
    w.string('😀');
    expect(hex(w)).toBe('00' + '02c3a9' + '04f09f9880');
    for (const text of ['a'.repeat(42), 'é'.repeat(42), 'ü'.repeat(43), 'x'.repeat(200), '😀'.repeat(40)]) {
      const one = new RowBinaryWriter(1);
      one.string(text);
      const bytes = Buffer.from(text, 'utf8');
      const length = new RowBinaryWriter(1);
      length.varUInt(bytes.length);
      expect(hex(one)).toBe(hex(length) + bytes.toString('hex'));
    }
  });

  it('writes fixed-width integers little-endian and grows its buffer as needed', () => {
    const w = new RowBinaryWriter(1);
    w.uint8(7);
    w.uint16(0x1234);
    w.uint32(0xdeadbeef);
    expect(hex(w)).toBe('07' + '3412' + 'efbeadde');
    w.reset();
    expect(w.length).toBe(0);
    w.string('x'.repeat(5_000));
    expect(w.length).toBe(5_002);
  });

  it.each([
    '0',
    '1',
    '12.345',
    '999.999999999999',
    '1000',
    '007.25',
    '-0',
    '-1.5',
    '-0.000000000001',
    '100000000000000000000000.5',
    '99999999999999999999999999.999999999999',
    '-99999999999999999999999999.999999999999',
  ])('encodes Decimal(38, 12) %s exactly', (text) => {
    expect(decimalBytes(text)).toBe(reference(text));
  });

  it('agrees with the BigInt reference on random decimals', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 2_000; i++) {
      const integer = String(next()).slice(0, 1 + (next() % 10)).replace(/^0+(?=\d)/, '');
      const fraction = String(next()).slice(0, next() % 13);
      const text = `${next() % 5 === 0 ? '-' : ''}${integer}${fraction ? '.' + fraction : ''}`;
      expect(decimalBytes(text)).toBe(reference(text));
    }
  });

  it.each([
    ['1e3', 'must be decimal text'],
    ['1.', 'must be decimal text'],
    ['+1', 'must be decimal text'],
    ['0.1234567890123', 'more than 12 fraction digits'],
    ['1'.repeat(27), 'more than 26 integer digits'],
  ])('refuses %s', (text, message) => {
    const w = new RowBinaryWriter();
    expect(w.decimal128(text, 12)).toContain(message);
    expect(w.length).toBe(0);
  });
});
