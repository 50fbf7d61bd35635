import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(full);
    else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield full;
  }
}

/** The argument text of each call `name(...)` in `text` (balanced parentheses), with its line. */
function calls(text: string, name: string): Array<{ args: string; line: number }> {
  const out: Array<{ args: string; line: number }> = [];
  const re = new RegExp(`\\b${name}\\(`, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < text.length && depth > 0; i++) {
      if ('([{'.includes(text[i])) depth++;
      else if (')]}'.includes(text[i])) depth--;
    }
    out.push({ args: text.slice(m.index + m[0].length, i - 1), line: text.slice(0, m.index).split('\n').length });
  }
  return out;
}

/** Top-level comma-separated arguments. */
function argCount(args: string): number {
  let depth = 0;
  let n = args.trim() ? 1 : 0;
  for (const c of args) {
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) n++;
  }
  return args.trim().endsWith(',') ? n - 1 : n;
}

/**
 * Tally's NATS server requires credentials (tools/infra/nats/accounts.conf, docs/security.md#nats):
 * a connection opened without them works only against a server without authorization and fails
 * everywhere else. Every connection in the repository names its credentials; the few that must not
 * (a test proving that an anonymous client is refused) say so on the line before.
 */
describe('every NATS connection passes credentials', () => {
  const files = ['apps', 'libs', 'tools'].flatMap((d) => [...sources(path.join(root, d))]);

  it('connectNats(url, name, auth) always has its third argument', () => {
    const missing: string[] = [];
    for (const file of files) {
      if (file.endsWith(path.join('libs', 'nats', 'src', 'connection.ts'))) continue;
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      for (const call of calls(text, 'connectNats')) {
        if (/^\s*(url|settings\.natsUrl)?\s*:/.test(call.args)) continue; // a declaration, not a call
        if (argCount(call.args) >= 3) continue;
        if (/nats: no credentials on purpose/.test(lines[call.line - 2] ?? '')) continue;
        missing.push(`${path.relative(root, file)}:${call.line} connectNats(${call.args})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("nats.js connect({...}) always sets user, authenticator or the project's auth options", () => {
    const missing: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      if (!/from '@nats-io\/transport-node'/.test(text)) continue;
      const lines = text.split('\n');
      for (const call of calls(text, 'connect')) {
        if (!call.args.trim().startsWith('{')) continue;
        if (/\b(user|authenticator)\b|natsAuthOptions/.test(call.args)) continue;
        if (/nats: no credentials on purpose/.test(lines[call.line - 2] ?? '')) continue;
        missing.push(`${path.relative(root, file)}:${call.line} connect(${call.args.replace(/\s+/g, ' ').slice(0, 80)})`);
      }
    }
    expect(missing).toEqual([]);
  });
});
