/**
 * The library is pure (style.md: domain libs do no I/O): it may import only @tally/errors and its
 * own files, and never reads the clock, the environment or the network. It writes no SQL either: the
 * ClickHouse SQL of a parsed statement is built in @tally/clickhouse (`sql/analytics-query.ts`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'test-support' ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.int-spec.ts') ? [path] : [];
  });
}

const files = sources(__dirname).map((path) => ({
  name: relative(__dirname, path),
  text: readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1'),
}));

describe('library purity', () => {
  it('has the sources it should', () => {
    expect(files.map((f) => f.name).sort()).toEqual([
      'codes.ts',
      'datapoints.ts',
      'index.ts',
      'sampler.ts',
      'sql/ast.ts',
      'sql/errors.ts',
      'sql/functions.ts',
      'sql/parser.ts',
      'sql/tokenizer.ts',
      'testing.ts',
    ]);
  });

  it.each(files.map((f) => [f.name, f.text]))(
    '%s imports only @tally/errors and its own files',
    (_name, text) => {
      const specifiers = [
        ...text.matchAll(/\bfrom\s+'([^']+)'|\brequire\(\s*'([^']+)'\s*\)|\bimport\(\s*'([^']+)'\s*\)/g),
      ].map((m) => m[1] ?? m[2] ?? m[3]);
      for (const spec of specifiers)
        expect(spec === '@tally/errors' || spec.startsWith('./') || spec.startsWith('../')).toBe(true);
    },
  );

  it.each(files.map((f) => [f.name, f.text]))(
    '%s uses no clock, environment, timers, console or network',
    (_name, text) => {
      for (const pattern of [
        /\bDate\.now\b/,
        /\bnew Date\(\)/,
        /\bprocess\./,
        /\bsetTimeout\b|\bsetInterval\b/,
        /\bconsole\./,
        /\bfetch\(/,
        /\bBuffer\b/,
      ]) {
        expect(text).not.toMatch(pattern);
      }
    },
  );
});
