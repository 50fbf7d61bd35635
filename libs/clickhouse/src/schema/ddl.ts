import {
  SqlQuoteError,
  identifier,
  isValidIdentifier,
  join,
  literal,
  raw,
  sql,
  type SqlFragment,
} from '../sql/quote';

export interface ClusterOptions {
  /** Cluster name from the servers' `remote_servers` config. */
  name: string;
  /** Replicated*MergeTree engines (needs ZooKeeper/Keeper and `{shard}`/`{replica}` macros) or plain ones. */
  replicated: boolean;
}

export interface SchemaOptions {
  database: string;
  /**
   * Emit `ON CLUSTER` DDL: each table becomes `<name>_local` on every node plus a `Distributed` table
   * `<name>` over it, so that readers and writers keep using the plain name.
   */
  cluster?: ClusterOptions;
}

export type MergeTreeFamily =
  'MergeTree' | 'ReplacingMergeTree' | 'SummingMergeTree' | 'AggregatingMergeTree';

export interface TableSpec {
  name: string;
  /** Column definitions, one per line, as written in the migration (an audited constant). */
  columns: SqlFragment;
  engine: MergeTreeFamily;
  /** Engine parameters after the replication ones, e.g. the version column of ReplacingMergeTree. */
  engineArgs?: SqlFragment[];
  partitionBy?: SqlFragment;
  orderBy: SqlFragment;
  /** Table settings after ORDER BY, e.g. `index_granularity = 1024` (an audited constant). */
  settings?: SqlFragment;
  /**
   * In cluster mode: `{ shardingKey }` makes the table `<name>_local` on every node plus a Distributed
   * table `<name>` over it (rows that must meet in one shard, such as the duplicates a
   * ReplacingMergeTree collapses, need the same key); `'local'` keeps just `<name>` on every node.
   */
  cluster: { shardingKey: SqlFragment } | 'local';
}

export interface MaterializedViewSpec {
  name: string;
  /** Target table (logical name; the local table in cluster mode). */
  to: string;
  /** The SELECT; `table(name)` names the local table that the view reads. */
  select: (table: (name: string) => SqlFragment) => SqlFragment;
}

/**
 * One versioned schema change. `statements` must be idempotent (`IF NOT EXISTS`), so that a
 * migration interrupted half-way is simply run again, and must build SQL only from constants and
 * the context's helpers.
 */
export interface Migration {
  /** Positive, strictly increasing; matches the file name `0001_<name>.ts`. */
  version: number;
  /** Short snake_case name, e.g. `events`. */
  name: string;
  /** One line for operators, printed above the rendered DDL. */
  description: string;
  statements(ddl: DdlContext): SqlFragment[];
}

const INDENT = '    ';

/** Builds the DDL of migrations for one database, locally or for a cluster. */
export class DdlContext {
  readonly database: string;
  readonly cluster?: ClusterOptions;

  constructor(options: SchemaOptions) {
    if (!isValidIdentifier(options.database)) {
      throw new SqlQuoteError(`'${options.database}' is not a valid database name`);
    }
    if (options.cluster && !isValidIdentifier(options.cluster.name)) {
      throw new SqlQuoteError(
        `'${options.cluster.name}' is not a valid cluster name (^[A-Za-z_][A-Za-z0-9_]*$)`,
      );
    }
    this.database = options.database;
    this.cluster = options.cluster;
  }

  /** ` ON CLUSTER \`name\`` in cluster mode, nothing otherwise. */
  get onCluster(): SqlFragment {
    return this.cluster ? sql` ON CLUSTER ${identifier(this.cluster.name)}` : raw('');
  }

  /**
   * The table that holds the rows on each node for a table created with a sharding key:
   * `<name>_local` in cluster mode, the name itself on a single server.
   */
  localName(name: string): string {
    return this.cluster ? `${name}_local` : name;
  }

  /** `db`.`name`: what readers and writers use (the Distributed table in cluster mode). */
  table(name: string): SqlFragment {
    return identifier(this.database, name);
  }

  localTable(name: string): SqlFragment {
    return identifier(this.database, this.localName(name));
  }

  createDatabase(): SqlFragment {
    return sql`CREATE DATABASE IF NOT EXISTS ${identifier(this.database)}${this.onCluster}`;
  }

  /** The MergeTree table, and in cluster mode the Distributed table over it. */
  createTable(spec: TableSpec): SqlFragment[] {
    const sharding = this.cluster && spec.cluster !== 'local' ? spec.cluster.shardingKey : undefined;
    const local = sharding ? this.localName(spec.name) : spec.name;
    const clauses = [sql`ENGINE = ${this.engine(spec.engine, local, spec.engineArgs ?? [])}`];
    if (spec.partitionBy) clauses.push(sql`PARTITION BY ${spec.partitionBy}`);
    clauses.push(sql`ORDER BY ${spec.orderBy}`);
    if (spec.settings) clauses.push(sql`SETTINGS ${spec.settings}`);
    const columns = spec.columns.text
      .trim()
      .split('\n')
      .map((line) => INDENT + line.trim())
      .join('\n');
    const statements = [
      sql`CREATE TABLE IF NOT EXISTS ${this.table(local)}${this.onCluster}\n(\n${raw(columns)}\n)\n${join(clauses, '\n')}`,
    ];
    if (this.cluster && sharding) {
      const args = join([literal(this.cluster.name), literal(this.database), literal(local), sharding]);
      statements.push(
        sql`CREATE TABLE IF NOT EXISTS ${this.table(spec.name)}${this.onCluster}\nAS ${this.localTable(spec.name)}\nENGINE = Distributed(${args})`,
      );
    }
    return statements;
  }

  /**
   * A materialized view from local table to local table (`select` and `to` name sharded tables), so
   * that it fires on the node that stores the rows; the view itself keeps its name on every node.
   */
  createMaterializedView(spec: MaterializedViewSpec): SqlFragment {
    const select = spec.select((name) => this.localTable(name));
    return sql`CREATE MATERIALIZED VIEW IF NOT EXISTS ${this.table(spec.name)}${this.onCluster}\nTO ${this.localTable(spec.to)}\nAS ${select}`;
  }

  private engine(family: MergeTreeFamily, localName: string, args: SqlFragment[]): SqlFragment {
    if (this.cluster?.replicated) {
      const path = `/clickhouse/tables/{shard}/${this.database}/${localName}`;
      return sql`${raw(`Replicated${family}`)}(${join([literal(path), literal('{replica}'), ...args])})`;
    }
    return args.length ? sql`${raw(family)}(${join(args)})` : raw(family);
  }
}
