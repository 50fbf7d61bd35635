/**
 * JSON parsing that never rounds a number. ClickHouse writes Decimal columns as bare JSON numbers
 * (`{"q":100000000000000000000000.500000000000}`) on 18.16 and, by default, on modern servers too;
 * `JSON.parse` would turn that into the nearest double. Here every number token becomes the string of
 * its digits, exactly as the server printed it, and callers convert with `BigInt`/decimal.js as needed.
 *
 * (On 18.16, `toString(<Decimal128>)` is not a way out: it corrupts values with 22 or more integer
 * digits, writing NUL bytes into the text. Output formats print those values correctly.)
 */

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Rewrites one JSON document so that every bare number is a string, then parses it. */
export function parseJsonExact<T = unknown>(text: string): T {
  let out = '';
  let start = 0; // first character of `text` not yet copied to `out`
  let i = 0;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      // Skip the string, honouring backslash escapes.
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
      i++;
    } else if (ch === 0x2d /* - */ || (ch >= 0x30 && ch <= 0x39)) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (!match) break; // not JSON: let JSON.parse report it
      out += text.slice(start, i) + '"' + match[0] + '"';
      i += match[0].length;
      start = i;
    } else {
      i++;
    }
  }
  return JSON.parse(out + text.slice(start)) as T;
}

/** Parses JSONEachRow output (one object per line) with `parseJsonExact`. */
export function parseJsonEachRowExact<T = unknown>(text: string): T[] {
  const rows: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() !== '') rows.push(parseJsonExact<T>(line));
  }
  return rows;
}
