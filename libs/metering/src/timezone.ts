/**
 * IANA time-zone names as both ClickHouse and JavaScript read them.
 *
 * `Intl` accepts names case-insensitively ("america/new_york") and resolves aliases, but ClickHouse
 * loads zone files by their exact name, so a name is accepted only if `Intl` knows it AND it is
 * spelled with IANA capitalisation (every path segment starts with an upper-case letter, as in
 * "America/Port-au-Prince", "Etc/GMT+5", "UTC"), or `Intl` reports it verbatim.
 */
const IANA_SPELLING = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/;

const known = new Map<string, boolean>();

function resolvedName(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

export function isValidTimeZone(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64) return false;
  const cached = known.get(name);
  if (cached !== undefined) return cached;
  const resolved = resolvedName(name);
  const ok = resolved !== undefined && (resolved === name || IANA_SPELLING.test(name));
  if (known.size < 10_000) known.set(name, ok);
  return ok;
}

/** The message for a rejected name, suggesting the canonical spelling when `Intl` knows one. */
export function timeZoneProblem(name: string): string {
  const resolved = resolvedName(name);
  return resolved && resolved !== name
    ? `'${name}' is not an IANA time-zone name as spelled in the tz database; did you mean '${resolved}'?`
    : `'${name}' is not an IANA time-zone name such as 'America/New_York' or 'UTC'`;
}
