/**
 * The `tally` operator CLI as a function: argv and dependencies in, exit code and output out, so it is
 * tested without a process. `tally.ts` wires it to the real NATS and the terminal.
 */
import {
  API_KEY_ROLES,
  SubscriptionLifecycleService,
  type ApiKeyRole,
  type TenantInput,
} from '@tally/catalog';
import {
  applyCatalogPlan,
  defaultKeyName,
  exportCatalog,
  parseCatalogDocument,
  planCatalogApply,
  renderCatalogYaml,
  type AppliedChange,
  type ApiKeyPort,
  type CatalogPort,
  type PlannedChange,
} from '@tally/catalog-api';
import { env, loadConfig, natsConnectionConfig, ConfigError } from '@tally/config';
import { isTallyError } from '@tally/errors';
import {
  ingestInboxPrefix,
  ingestUserEntry,
  ingestUserName,
  natsNames,
  TENANT_ID_PATTERN,
} from '@tally/nats';
import { randomBytes } from 'node:crypto';
import { parseArgs, requireOption, optionValue, UsageError, type ArgSpec } from './args';
import { simulationRun, type SimulationCliDeps } from './simulation';
import { invoiceExport } from './invoice-export';

/** What the CLI talks to: the catalog and API-key stores of one NATS prefix. */
export interface CliConnection {
  catalog: CatalogPort;
  keys: ApiKeyPort;
  close(): Promise<void>;
}

export interface CliDeps extends Omit<SimulationCliDeps, 'env' | 'readFile'> {
  env: Record<string, string | undefined>;
  /** Reads a file (`-` = standard input). */
  readFile(path: string): Promise<string>;
  /** The settings are the CLI's configuration: the NATS URL and prefix, and the NATS credentials. */
  connect(
    settings: { natsUrl: string; natsPrefix: string } & Record<string, unknown>,
  ): Promise<CliConnection>;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const USAGE = `Usage: tally <command>

  tenant create <id> --timezone <IANA zone> --currency <ISO 4217> [--name <name>]
  key create <tenant> --role admin|query|ingest [--name <name>]    prints the key (only this once)
  key list <tenant>
  key revoke <tenant> <key id>
  catalog apply -f <file.yaml|-> [--tenant <id>] [--dry-run]      declare customers, meters, plans, ...
  catalog export --tenant <id>                                    the stored catalog as YAML
  simulation run -f <request.json|-> [--csv <file>]               price simulation via the query API (progress bar)
  invoice export <document id>...                                 push documents to the payment provider (Stripe), once each
  subscription create <id> --tenant <t> --customer <c> --plan <p> [--start <date>] [--trial-days <n>]
  subscription change-plan <id> --tenant <t> --plan <p> [--at now|period_end | --effective <date>]
  subscription cancel|pause|resume <id> --tenant <t> [--at now|period_end | --effective <date>] [--resume-on <date>]
                                                                  lifecycle (docs/finance.md#subscription-lifecycle)
  nats ingest-user <tenant>                                       a NATS user for the tenant's SDK (docs/security.md)

Connects to NATS_URL (default nats://127.0.0.1:4322) with prefix TALLY_NATS_PREFIX (default tally);
'simulation run' and 'invoice export' to the query API at TALLY_API_URL (default http://127.0.0.1:3001) with TALLY_API_KEY.
`;

const cliConfigSpec = {
  ...natsConnectionConfig,
  natsPrefix: env.string('TALLY_NATS_PREFIX', 'tally', 'prefix of every stream, subject and bucket'),
};

class Output {
  private out = '';
  private err = '';
  line(text = ''): void {
    this.out += `${text}\n`;
  }
  write(text: string): void {
    this.out += text;
  }
  note(text: string): void {
    this.err += `${text}\n`;
  }
  result(code: number): CliResult {
    return { code, stdout: this.out, stderr: this.err };
  }
}

type Command = (args: string[], io: Output, deps: CliDeps) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  'tenant create': tenantCreate,
  'key create': keyCreate,
  'key list': keyList,
  'key revoke': keyRevoke,
  'catalog apply': catalogApply,
  'catalog export': catalogExport,
  'simulation run': (argv, io, deps) => simulationRun(argv, io, deps),
  'invoice export': (argv, io, deps) => invoiceExport(argv, io, deps),
  'nats ingest-user': natsIngestUser,
  'subscription create': subscriptionCommand('create'),
  'subscription change-plan': subscriptionCommand('change-plan'),
  'subscription cancel': subscriptionCommand('cancel'),
  'subscription pause': subscriptionCommand('pause'),
  'subscription resume': subscriptionCommand('resume'),
};

/** Runs one `tally` command. Exit codes: 0 done, 1 refused or failed, 2 bad command line. */
export async function runTally(argv: readonly string[], deps: CliDeps): Promise<CliResult> {
  const io = new Output();
  if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0])) {
    io.write(USAGE);
    return io.result(argv.length === 0 ? 2 : 0);
  }
  const name = `${argv[0]} ${argv[1] ?? ''}`;
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command '${argv.slice(0, 2).join(' ')}'`);
    return io.result(await command(argv.slice(2), io, deps));
  } catch (error) {
    if (error instanceof UsageError) {
      io.note(`tally: ${error.message}\n`);
      io.note(USAGE);
      return io.result(2);
    }
    io.note(describeError(error));
    return io.result(1);
  }
}

/**
 * Prints the `users` entry of a tenant's NATS ingest user with a fresh password, for the server's
 * accounts.conf; needs no connection. The password is shown only here.
 */
async function natsIngestUser(argv: string[], io: Output, deps: CliDeps): Promise<number> {
  const tenant = onePositional(parseArgs(argv, { values: [], flags: [] }).positionals, '<tenant>');
  if (!TENANT_ID_PATTERN.test(tenant))
    throw new UsageError(`'${tenant}' is not a tenant id (${TENANT_ID_PATTERN})`);
  const { natsPrefix } = loadConfig('tally', cliConfigSpec, deps.env);
  const user = ingestUserName(tenant);
  const password = randomBytes(24).toString('base64url');
  io.line(
    `# NATS ingest user of tenant ${tenant}: add this entry to the users list of the server's accounts.conf, then reload the server.`,
  );
  io.line(ingestUserEntry(natsNames(natsPrefix), { tenant, user, password }).trim());
  io.line(
    `# The tenant's SDK connects with user ${user}, this password and inboxPrefix ${ingestInboxPrefix(tenant)} (docs/sdk.md).`,
  );
  return 0;
}

async function withConnection<T>(deps: CliDeps, use: (c: CliConnection) => Promise<T>): Promise<T> {
  const config = loadConfig('tally', cliConfigSpec, deps.env);
  const connection = await deps.connect(config);
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

const TENANT_CREATE: ArgSpec = { values: ['timezone', 'currency', 'name'], flags: [] };

async function tenantCreate(argv: string[], io: Output, deps: CliDeps): Promise<number> {
  const args = parseArgs(argv, TENANT_CREATE);
  const id = onePositional(args.positionals, '<id>');
  const input: TenantInput = {
    id,
    name: optionValue(args, 'name') ?? id,
    timezone: requireOption(args, 'timezone'),
    currency: requireOption(args, 'currency'),
  };
  return withConnection(deps, async ({ catalog }) => {
    const existing = await catalog.getTenant(id);
    if (existing) {
      const same = (['name', 'timezone', 'currency'] as const).every((k) => existing.value[k] === input[k]);
      if (same) {
        io.line(`tenant ${id} already exists (unchanged, revision ${existing.revision})`);
        return 0;
      }
      io.note(
        `tally: tenant ${id} already exists with other settings (timezone ${existing.value.timezone}, ` +
          `currency ${existing.value.currency}); change it with 'tally catalog apply' (settings) or PUT /v1/tenant`,
      );
      return 1;
    }
    const created = await catalog.putTenant(input, { expectedRevision: 0 });
    io.line(`tenant ${id} created (revision ${created.revision})`);
    return 0;
  });
}

const KEY_CREATE: ArgSpec = { values: ['role', 'name'], flags: [] };

async function keyCreate(argv: string[], io: Output, deps: CliDeps): Promise<number> {
  const args = parseArgs(argv, KEY_CREATE);
  const tenant = onePositional(args.positionals, '<tenant>');
  const role = requireOption(args, 'role');
  if (!(API_KEY_ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`--role must be one of ${API_KEY_ROLES.join(', ')}`);
  }
  return withConnection(deps, async ({ catalog, keys }) => {
    if (!(await catalog.getTenant(tenant))) {
      io.note(`tally: tenant ${tenant} does not exist; create it first (tally tenant create)`);
      return 1;
    }
    const created = await keys.create(
      tenant,
      role as ApiKeyRole,
      optionValue(args, 'name') ?? defaultKeyName(role as ApiKeyRole),
    );
    // The key alone on stdout, so `KEY=$(tally key create ...)` works; the rest is for the human.
    io.line(created.key);
    io.note(`created ${role} key '${created.record.name}' for tenant ${tenant} (id ${created.id})`);
    io.note('store it now: Tally keeps only its hash and cannot show it again');
    return 0;
  });
}

async function keyList(argv: string[], io: Output, deps: CliDeps): Promise<number> {
  const args = parseArgs(argv, { values: [], flags: [] });
  const tenant = onePositional(args.positionals, '<tenant>');
  return withConnection(deps, async ({ keys }) => {
    const all = keys.list(tenant).sort((a, b) => (a.record.createdAt < b.record.createdAt ? -1 : 1));
    if (all.length === 0) io.line(`tenant ${tenant} has no API keys`);
    for (const { id, record } of all) {
      io.line(
        `${id}  ${record.role.padEnd(6)}  ${record.createdAt}  ${record.revoked ? 'revoked ' : 'active  '}  ${record.name}`,
      );
    }
    return 0;
  });
}

async function keyRevoke(argv: string[], io: Output, deps: CliDeps): Promise<number> {
  const args = parseArgs(argv, { values: [], flags: [] });
  if (args.positionals.length !== 2) throw new UsageError('expected <tenant> <key id>');
  const [tenant, id] = args.positionals;
  return withConnection(deps, async ({ keys }) => {
    if (!keys.list(tenant).some((k) => k.id === id)) {
      io.note(`tally: tenant ${tenant} has no API key ${id}`);
      return 1;
    }
    await keys.revokeById(id);
    io.line(`revoked key ${id}`);
    return 0;
  });
}

const SUBSCRIPTION: ArgSpec = {
  values: ['tenant', 'customer', 'plan', 'start', 'trial-days', 'at', 'effective', 'resume-on'],
  flags: [],
  aliases: {},
};

/**
 * `tally subscription <action> <id>`: the lifecycle service of the query API
 * (`POST /v1/subscriptions/...`), run on the catalog store directly like `catalog apply`; prints
 * the effective date, its billing period and every subscription written.
 */
function subscriptionCommand(action: 'create' | 'change-plan' | 'cancel' | 'pause' | 'resume'): Command {
  return async (argv, io, deps) => {
    const args = parseArgs(argv, SUBSCRIPTION);
    const id = onePositional(args.positionals, 'a subscription id');
    const tenant = requireOption(args, 'tenant');
    const when = {
      ...(optionValue(args, 'at') !== undefined ? { at: optionValue(args, 'at') } : {}),
      ...(optionValue(args, 'effective') !== undefined ? { effective: optionValue(args, 'effective') } : {}),
    };
    return withConnection(deps, async ({ catalog }) => {
      const lifecycle = new SubscriptionLifecycleService(catalog);
      const trialDays = optionValue(args, 'trial-days');
      const start = optionValue(args, 'start');
      const resumeOn = optionValue(args, 'resume-on');
      const result =
        action === 'create'
          ? await lifecycle.create(tenant, {
              id,
              customer: requireOption(args, 'customer'),
              plan: requireOption(args, 'plan'),
              ...(start !== undefined ? { start } : {}),
              ...(trialDays !== undefined ? { trialDays: Number(trialDays) } : {}),
            })
          : action === 'change-plan'
            ? await lifecycle.changePlan(tenant, id, { plan: requireOption(args, 'plan'), ...when })
            : action === 'cancel'
              ? await lifecycle.cancel(tenant, id, when)
              : action === 'pause'
                ? await lifecycle.pause(tenant, id, {
                    ...when,
                    ...(resumeOn !== undefined ? { resumeOn } : {}),
                  })
                : await lifecycle.resume(tenant, id, when);
      io.line(`${action} ${id}: effective ${result.effective} (period ${result.period})`);
      for (const s of result.subscriptions)
        io.line(
          `  subscription ${s.id}: plan ${s.plan}, ${s.start} to ${s.end ?? 'open'}${s.trialEnd ? `, trial until ${s.trialEnd}` : ''} (version ${s.history?.at(-1)?.version ?? 1}, revision ${s.revision})`,
        );
      return 0;
    });
  };
}

const CATALOG_APPLY: ArgSpec = { values: ['file', 'tenant'], flags: ['dry-run'], aliases: { f: 'file' } };

async function catalogApply(argv: string[], io: Output, deps: CliDeps): Promise<number> {
  const args = parseArgs(argv, CATALOG_APPLY);
  if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const file = requireOption(args, 'file');
  const dryRun = args.options.has('dry-run');
  const doc = parseCatalogDocument(await deps.readFile(file), optionValue(args, 'tenant'));
  return withConnection(deps, async ({ catalog }) => {
    const plan = await planCatalogApply(catalog, doc);
    const changes: Array<PlannedChange | AppliedChange> = dryRun
      ? plan.changes
      : await applyCatalogPlan(catalog, plan);
    io.line(`${dryRun ? 'dry run: ' : ''}tenant ${plan.tenant} (${file})`);
    for (const change of changes) io.line(`  ${describeChange(change, dryRun)}`);
    io.line(summary(changes, dryRun));
    return 0;
  });
}

async function catalogExport(argv: string[], io: Output, deps: CliDeps): Promise<number> {
  const args = parseArgs(argv, { values: ['tenant'], flags: [] });
  if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const tenant = requireOption(args, 'tenant');
  return withConnection(deps, async ({ catalog }) => {
    const doc = await exportCatalog(catalog, tenant);
    if (!doc.settings) {
      io.note(`tally: tenant ${tenant} does not exist`);
      return 1;
    }
    io.write(renderCatalogYaml(doc));
    return 0;
  });
}

function describeChange(change: PlannedChange | AppliedChange, dryRun: boolean): string {
  const what = `${change.kind} ${change.id}`;
  const version = 'version' in change && change.version !== undefined ? ` (version ${change.version})` : '';
  switch (change.action) {
    case 'create':
      return `${dryRun ? 'would create' : 'created'}    ${what}${version}`;
    case 'update':
      return `${dryRun ? 'would update' : 'updated'}    ${what}: ${change.fields.join(', ')}${version}`;
    default:
      return `unchanged  ${what}`;
  }
}

function summary(changes: ReadonlyArray<PlannedChange>, dryRun: boolean): string {
  const count = (action: string) => changes.filter((c) => c.action === action).length;
  const [created, updated, unchanged] = [count('create'), count('update'), count('unchanged')];
  if (created + updated === 0) return `no changes (${unchanged} unchanged)`;
  return dryRun
    ? `would create ${created}, update ${updated}, leave ${unchanged} unchanged (nothing written)`
    : `${created} created, ${updated} updated, ${unchanged} unchanged`;
}

function onePositional(positionals: string[], name: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected ${name}`);
  return positionals[0];
}

/** One line per problem, with the field path, so a bad catalog file can be fixed in one go. */
function describeError(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (isTallyError(error)) {
    const lines = [`tally: ${error.code}: ${error.message}`];
    for (const d of error.details) {
      const hint = /expected string, received number|got a JSON number/i.test(d.message)
        ? ' (quote amounts in YAML: "0.001")'
        : '';
      lines.push(`  ${d.field || '(document)'}: ${d.code}: ${d.message}${hint}`);
    }
    return lines.join('\n');
  }
  return `tally: ${error instanceof Error ? error.message : String(error)}`;
}
