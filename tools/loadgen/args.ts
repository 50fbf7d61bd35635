/**
 * `--name value` / `--name=value` / `--flag` command-line options, each with an environment variable
 * fallback, for the bench and load generator scripts. Unknown options are an error, so a typo does
 * not silently run a 60 s benchmark with defaults.
 */
export interface OptionSpec {
  /** Environment variable read when the flag is absent. */
  env?: string;
  help: string;
  /** Boolean flags take no value. */
  flag?: boolean;
}

export function parseArgs<K extends string>(
  specs: Record<K, OptionSpec>,
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [name, spec] of Object.entries(specs) as [K, OptionSpec][]) {
    const value = spec.env ? env[spec.env] : undefined;
    if (value !== undefined && value !== '') out[name] = value;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    const name = match?.[1] as K | undefined;
    if (!match || !name || !(name in specs)) throw new Error(`unknown option '${arg}'\n${usage(specs)}`);
    if (specs[name].flag) out[name] = match[2] ?? 'true';
    else if (match[2] !== undefined) out[name] = match[2];
    else if (i + 1 < argv.length) out[name] = argv[++i];
    else throw new Error(`option --${name} needs a value`);
  }
  return out;
}

export function usage(specs: Record<string, OptionSpec>): string {
  return Object.entries(specs)
    .map(([name, s]) => `  --${name}${s.flag ? '' : ' <value>'}${s.env ? ` (env ${s.env})` : ''}: ${s.help}`)
    .join('\n');
}

/** A number option: `fallback` when absent, an error naming the option when not a number in range. */
export function numberOption(
  values: Partial<Record<string, string>>,
  name: string,
  fallback: number,
  { min = -Infinity, max = Infinity, integer = false } = {},
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got '${raw}'`);
  }
  return n;
}
