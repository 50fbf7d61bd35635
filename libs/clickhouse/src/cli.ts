/**
 * Schema command for operators and CI:
 *
 *   node -r @swc-node/register libs/clickhouse/src/cli.ts migrate [--cluster NAME [--not-replicated]] [--database DB]
 *   node -r @swc-node/register libs/clickhouse/src/cli.ts render  [--cluster NAME [--not-replicated]] [--database DB]
 *
 * Connection from CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE
 * (defaults http://127.0.0.1:8123, default, '', tally). `render` prints the DDL and connects to nothing.
 * Exit status: 0 done, 1 failed, 2 bad usage.
 */
import { createClickHouse } from './client';
import { ClickHouseError } from './errors';
import { migrate, migrationId, renderMigrations } from './migrations';
import type { ClusterOptions } from './schema';

const USAGE = `usage: cli.ts migrate|render [--cluster NAME [--not-replicated]] [--database DB]
  migrate   create the database if missing and apply pending migrations
  render    print the DDL of every migration (to apply by hand, or to review)
  --cluster NAME      emit ON CLUSTER DDL with Replicated*MergeTree + Distributed tables
  --not-replicated    with --cluster: plain MergeTree engines (sharding without replication)
  --database DB       instead of CLICKHOUSE_DATABASE (default tally)
environment: CLICKHOUSE_URL (http://127.0.0.1:8123) CLICKHOUSE_USER (default) CLICKHOUSE_PASSWORD ('')
`;

interface Args {
  command: 'migrate' | 'render';
  database: string;
  cluster?: ClusterOptions;
}

class UsageError extends Error {}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Args {
  const [command, ...rest] = argv;
  if (command !== 'migrate' && command !== 'render')
    throw new UsageError(command ? `unknown command '${command}'` : 'no command');
  let database = env.CLICKHOUSE_DATABASE || 'tally';
  let clusterName: string | undefined;
  let replicated = true;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--cluster') clusterName = value();
    else if (arg.startsWith('--cluster=')) clusterName = arg.slice('--cluster='.length);
    else if (arg === '--database') database = value();
    else if (arg.startsWith('--database=')) database = arg.slice('--database='.length);
    else if (arg === '--not-replicated') replicated = false;
    else throw new UsageError(`unknown option '${arg}'`);
  }
  if (!replicated && clusterName === undefined) throw new UsageError('--not-replicated needs --cluster');
  return {
    command,
    database,
    cluster: clusterName === undefined ? undefined : { name: clusterName, replicated },
  };
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}`);
    return 2;
  }

  if (args.command === 'render') {
    process.stdout.write(renderMigrations({ database: args.database, cluster: args.cluster }));
    return 0;
  }

  const url = process.env.CLICKHOUSE_URL || 'http://127.0.0.1:8123';
  const ch = createClickHouse({
    url,
    username: process.env.CLICKHOUSE_USER || 'default',
    password: process.env.CLICKHOUSE_PASSWORD ?? '',
    database: args.database,
    requestTimeoutMs: 300_000, // ON CLUSTER DDL waits for every node
    application: 'tally-migrate',
  });
  try {
    const result = await migrate(ch, {
      cluster: args.cluster,
      logger: {
        info: (fields, message) => process.stdout.write(`${message} ${JSON.stringify(fields)}\n`),
        warn: (fields, message) => process.stderr.write(`WARNING: ${message} ${JSON.stringify(fields)}\n`),
      },
    });
    const applied = result.applied.map((m) => migrationId(m));
    process.stdout.write(
      applied.length
        ? `${args.database}: applied ${applied.length} migration(s): ${applied.join(', ')}\n`
        : `${args.database}: schema is current (${result.alreadyApplied} migration(s) applied earlier)\n`,
    );
    if (result.unknownVersions.length) {
      process.stderr.write(
        `WARNING: the database has migrations this release does not know: ${result.unknownVersions.join(', ')}\n`,
      );
    }
    return 0;
  } catch (error) {
    const detail = error instanceof ClickHouseError && error.serverMessage ? `: ${error.serverMessage}` : '';
    process.stderr.write(
      `migrate failed on ${url} (${args.database}): ${(error as Error).message}${detail}\n`,
    );
    return 1;
  } finally {
    await ch.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
