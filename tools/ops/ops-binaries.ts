import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * A Go-built tool the ops tests run (prometheus, promtool, helm): `$<NAME>_BIN`, ~/go/bin, or PATH.
 * `bash tools/infra/infra.sh tools` installs them (tools/test.sh runs it before the tests).
 */
export function opsBinary(name: 'prometheus' | 'promtool' | 'helm'): string {
  const fromEnv = process.env[`${name.toUpperCase()}_BIN`];
  if (fromEnv) return fromEnv;
  const candidates = [path.join(homedir(), 'go', 'bin', name)];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter))
    if (dir) candidates.push(path.join(dir, name));
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`${name} not found (~/go/bin, PATH): run bash tools/infra/infra.sh tools`);
  return found;
}

export const repoRoot = path.resolve(__dirname, '..', '..');
