import { crc32, deflateSync } from 'node:zlib';
import { decodePng, inkShare } from './png';

function chunk(type: string, body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), body])));
  return Buffer.concat([length, Buffer.from(type, 'latin1'), body, crc]);
}

/** An RGB PNG of `rows`, row y filtered with filter type y % 5 (the encoder's side of each filter). */
function encode(width: number, rows: number[][]): Buffer {
  const stride = width * 3;
  const lines: Buffer[] = [];
  rows.forEach((row, y) => {
    const filter = y % 5;
    const prev = y > 0 ? rows[y - 1] : new Array<number>(stride).fill(0);
    const line = row.map((v, x) => {
      const a = x >= 3 ? row[x - 3] : 0;
      const b = prev[x];
      const c = x >= 3 ? prev[x - 3] : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      return (v - [0, a, b, (a + b) >> 1, paeth][filter] + 256) & 0xff;
    });
    lines.push(Buffer.from([filter, ...line]));
  });
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(rows.length, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(lines))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('decodePng', () => {
  it('undoes all five row filters and counts the dark pixels', () => {
    const width = 4;
    const rows = Array.from({ length: 10 }, (_, y) =>
      Array.from({ length: width * 3 }, (_, x) => ((x * 37 + y * 91) * (y % 3 === 0 ? 1 : 7)) & 0xff),
    );
    const png = decodePng(encode(width, rows));
    expect([png.width, png.height, png.channels]).toEqual([4, 10, 3]);
    expect([...png.pixels]).toEqual(rows.flat());
    const white = decodePng(encode(2, [[255, 255, 255, 0, 0, 0]]));
    expect(inkShare(white)).toBe(0.5);
  });

  it('refuses what is not a PNG', () => {
    expect(() => decodePng(Buffer.from('%PDF-1.4'))).toThrow('not a PNG');
  });
});
