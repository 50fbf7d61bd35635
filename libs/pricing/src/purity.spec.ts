/**
 * Guards the library's contract of purity: it runs inside Temporal workflows (deterministic sandbox, no
 * Node built-ins) and must never touch floats, the clock, randomness or I/O. A static scan of the
 * library sources (specs and test-support excluded).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SRC = __dirname;
const sources = readdirSync(SRC)
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'))
  .map((name) => ({ name, text: stripComments(readFileSync(join(SRC, name), 'utf8')) }));

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('library purity', () => {
  it('has sources to check', () => {
    expect(sources.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'index.ts',
        'price.ts',
        'validate.ts',
        'decimal.ts',
        'currency.ts',
        'errors.ts',
        'types.ts',
      ]),
    );
  });

  it.each(sources.map((s) => [s.name, s.text]))(
    '%s imports only decimal.js, @tally/errors and its own files',
    (_name, text) => {
      const specifiers = [
        ...text.matchAll(/\bfrom\s+'([^']+)'|\brequire\(\s*'([^']+)'\s*\)|\bimport\(\s*'([^']+)'\s*\)/g),
      ].map((m) => m[1] ?? m[2] ?? m[3]);
      for (const spec of specifiers)
        expect(['decimal.js', '@tally/errors'].includes(spec) || spec.startsWith('./')).toBe(true);
    },
  );

  it.each(sources.map((s) => [s.name, s.text]))(
    '%s uses no clock, randomness, globals of Node or float parsing',
    (_name, text) => {
      const forbidden = [
        /\bDate\b/,
        /\bMath\.random\b/,
        /\bprocess\./,
        /\bBuffer\b/,
        /\bsetTimeout\b|\bsetInterval\b/,
        /\bconsole\./,
        /\bparseFloat\b/,
        /\bNumber\(/,
        /\.toNumber\(\)/,
        /\bfetch\(/,
      ];
      for (const pattern of forbidden) expect(text).not.toMatch(pattern);
    },
  );

  it('importing the public index adds no globals and freezes its tables', () => {
    const before = new Set(Object.getOwnPropertyNames(globalThis));
    let lib: typeof import('./index') | undefined;
    jest.isolateModules(() => {
      lib = jest.requireActual<typeof import('./index')>('./index');
    });
    expect(Object.getOwnPropertyNames(globalThis).filter((key) => !before.has(key))).toEqual([]);
    expect(Object.isFrozen(lib?.CURRENCY_MINOR_UNITS)).toBe(true);
    expect(Object.isFrozen(lib?.CHARGE_KINDS)).toBe(true);
    expect(Object.isFrozen(lib?.PRICING_ISSUE_CODES)).toBe(true);
  });
});
