/** A command line split into positionals and `--name value` / `--name=value` / `-f value` options. */
export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ArgSpec {
  /** Options that take a value, by long name; `aliases` maps short names (`f` → `file`). */
  values: readonly string[];
  flags: readonly string[];
  aliases?: Readonly<Record<string, string>>;
}

/** Parses `argv` against `spec`; an unknown option or a missing value is a `UsageError`. */
export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const long = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    const given = long ? long[1] : /^-([a-zA-Z])$/.exec(arg)?.[1];
    if (given === undefined) {
      positionals.push(arg);
      continue;
    }
    const name = spec.aliases?.[given] ?? given;
    const inline = long?.[2];
    if (spec.flags.includes(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      options.set(name, true);
    } else if (spec.values.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      options.set(name, value);
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  return { positionals, options };
}

export function optionValue(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function requireOption(args: ParsedArgs, name: string): string {
  const v = optionValue(args, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}
