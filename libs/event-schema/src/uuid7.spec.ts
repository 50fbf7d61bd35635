import { uuidV7 } from './uuid7';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function msOf(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

describe('uuidV7', () => {
  it('has the RFC 9562 version and variant and carries the given time', () => {
    const ms = Date.parse('2024-05-01T12:00:00.123Z');
    const id = uuidV7(ms);
    expect(id).toMatch(V7);
    expect(msOf(id)).toBe(ms);
    expect(msOf(uuidV7(ms + 1))).toBe(ms + 1);
  });

  it('is unique and strictly increasing within a millisecond, and when the time goes backwards', () => {
    const ms = Date.parse('2030-01-01T00:00:00Z');
    const ids: string[] = [];
    for (let i = 0; i < 20_000; i++) ids.push(uuidV7(ms));
    ids.push(uuidV7(ms - 5000)); // clock step back: still after the previous ids
    ids.push(uuidV7(ms + 1));
    expect(msOf(ids[20_000])).toBe(ms);
    expect(msOf(ids[20_001])).toBe(ms + 1);
    expect(ids.every((id, i) => V7.test(id) && (i === 0 || id > ids[i - 1]))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('rejects times outside 48 bits', () => {
    expect(() => uuidV7(-1)).toThrow(RangeError);
    expect(() => uuidV7(2 ** 48)).toThrow(RangeError);
    expect(() => uuidV7(NaN)).toThrow(RangeError);
    expect(msOf(uuidV7(2 ** 48 - 1))).toBe(2 ** 48 - 1);
  });
});
