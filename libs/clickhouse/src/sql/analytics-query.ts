/**
 * The SQL of the Analytics Engine SQL API: a statement parsed by `@tally/analytics-engine` (the
 * dialect: tokens, grammar, functions) compiled to ClickHouse SQL scoped to one tenant's datasets.
 * Names and values of the query are re-emitted through `quote.ts`, never copied as text.
 */
import {
  AnalyticsSqlError,
  AnalyticsSqlErrorCode as E,
  FUNCTIONS,
  parseAnalyticsSql,
  type Expr,
  type FunctionSpec,
  type OutputFormat,
  type ParseOptions,
  type SelectStatement,
  type SourcePosition,
  type Statement,
} from '@tally/analytics-engine';
import { identifier, literal } from './quote';

export interface RewriteOptions {
  /** The caller's tenant: the only rows the query can read. */
  tenant: string;
  /** The caller's datasets: the only table names the query may use. */
  datasets: readonly string[];
  /** Tally's ClickHouse database (the one holding `datapoints`). */
  database: string;
  /** Most rows a query returns: a missing or larger LIMIT becomes this (default 10,000). */
  maxRows?: number;
  /** Server-side time limit returned in `settings` (default 30 s). */
  maxExecutionTimeSeconds?: number;
  /**
   * Which servers the SQL is for. `compatible` (the default) expands the functions ClickHouse 18.16
   * lacks (`toStartOfInterval`, `toStartOfWeek`, `toStartOfTenMinutes`, `toStartOfFifteenMinute`)
   * into ones every generation has; `modern` (ClickHouse 20.1 and later) emits them as they are.
   * Both are checked to give the same answers on ClickHouse 26.7 by the parity suite (tools/parity).
   */
  target?: 'compatible' | 'modern';
}

/**
 * ClickHouse settings the caller sends with the query (`clickhouse_settings`). A type rather than an
 * interface so that it is assignable to @clickhouse/client's `ClickHouseSettings` as it is.
 */
export type AnalyticsQuerySettings = {
  /**
   * '1': the server refuses anything but reads, and any SETTINGS in the query. Sent as a request
   * setting it does not stop the other settings of the same request (checked on 18.16).
   */
  readonly: '1';
  max_execution_time: number;
};

export type AnalyticsSqlPlan =
  | {
      kind: 'query';
      /** The rewritten SELECT, without FORMAT: run it with `format` as the output format. */
      sql: string;
      format: OutputFormat;
      settings: AnalyticsQuerySettings;
      /** The LIMIT applied, and whether it was added or lowered to `maxRows`. */
      limit: number;
      limitClamped: boolean;
      dataset: string;
    }
  | {
      /** `SHOW TABLES`: nothing to run; answer with one row `{ dataset }` per name. */
      kind: 'show_tables';
      format: OutputFormat;
      datasets: string[];
    };

export const ANALYTICS_SQL_DEFAULTS = {
  maxRows: 10_000,
  maxExecutionTimeSeconds: 30,
  format: 'JSON' as OutputFormat,
} as const;

/** The columns of every dataset, as the SQL API names them (`_sample_interval` included). */
export const DATASET_COLUMNS: readonly string[] = Object.freeze([
  'timestamp',
  'index1',
  ...Array.from({ length: 20 }, (_, i) => `blob${i + 1}`),
  ...Array.from({ length: 20 }, (_, i) => `double${i + 1}`),
  '_sample_interval',
  'dataset',
]);
const COLUMN_SET = new Set(DATASET_COLUMNS);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const UINT64_MAX = 18446744073709551615n;
const DATAPOINTS_TABLE = 'datapoints';

/** Parses and rewrites in one step. */
export function compileAnalyticsSql(text: string, options: RewriteOptions & ParseOptions): AnalyticsSqlPlan {
  return rewriteAnalyticsSql(parseAnalyticsSql(text, options), options);
}

/**
 * Turns a parsed query into SQL that can only read the caller's rows: the dataset becomes
 * `(SELECT * FROM <db>.datapoints WHERE tenant = <tenant> AND dataset = <dataset>) AS <dataset>`,
 * every column and function is checked against an allow-list and emitted from it, every literal is
 * re-emitted through quote.ts (no text of the query is ever copied), functions that ClickHouse 18.16
 * lacks are expanded into ones both generations have, and the LIMIT is clamped.
 */
export function rewriteAnalyticsSql(statement: Statement, options: RewriteOptions): AnalyticsSqlPlan {
  const format = statement.format ?? ANALYTICS_SQL_DEFAULTS.format;
  if (statement.kind === 'show_tables') {
    return { kind: 'show_tables', format, datasets: [...options.datasets].sort() };
  }
  return new Rewriter(statement, options).plan(format);
}

// Precedence of what an emitted expression is, to parenthesise exactly where ClickHouse needs it.
const P = { OR: 1, AND: 2, NOT: 3, COMPARE: 4, ADD: 5, MUL: 6, ATOM: 8 } as const;
const BINARY_PRECEDENCE: Record<string, number> = {
  OR: P.OR,
  AND: P.AND,
  '=': P.COMPARE,
  '!=': P.COMPARE,
  '<': P.COMPARE,
  '<=': P.COMPARE,
  '>': P.COMPARE,
  '>=': P.COMPARE,
  '+': P.ADD,
  '-': P.ADD,
  '*': P.MUL,
  '/': P.MUL,
  '%': P.MUL,
};

interface Emitted {
  text: string;
  prec: number;
}

const atom = (text: string): Emitted => ({ text, prec: P.ATOM });

class Rewriter {
  private readonly aliases = new Map<string, Expr>();
  private readonly maxRows: number;
  /** The alias whose own definition is being checked: there, its name means the column. */
  private defining?: string;
  /** Emitting an inlined expression (see `pushdown`): every name is a column. */
  private columnsOnly = false;

  constructor(
    private readonly statement: SelectStatement,
    private readonly options: RewriteOptions,
  ) {
    this.maxRows = options.maxRows ?? ANALYTICS_SQL_DEFAULTS.maxRows;
    if (!Number.isSafeInteger(this.maxRows) || this.maxRows < 1)
      throw new RangeError('maxRows must be a positive integer');
  }

  plan(format: OutputFormat): AnalyticsSqlPlan {
    const s = this.statement;
    const dataset = this.dataset();
    this.collectAliases();

    const items = s.items.map((item) => {
      this.defining = item.alias?.name;
      const expr = this.expr(item.expr).text;
      this.defining = undefined;
      return item.alias ? `${expr} AS ${this.quoteName(item.alias.name)}` : expr;
    });
    const where = s.where ? this.expr(s.where).text : undefined;
    const scope = [
      `tenant = ${literal(this.options.tenant).text}`,
      `dataset = ${literal(dataset).text}`,
      ...(s.where ? this.pushdown(s.where) : []),
    ];
    const source =
      `(SELECT * FROM ${identifier(this.options.database, DATAPOINTS_TABLE).text} WHERE ${scope.join(' AND ')})` +
      ` AS ${identifier(dataset).text}`;
    const parts = [`SELECT ${s.distinct ? 'DISTINCT ' : ''}${items.join(', ')}`, `FROM ${source}`];
    if (where) parts.push(`WHERE ${where}`);
    if (s.groupBy.length) {
      parts.push(
        `GROUP BY ${s.groupBy.map((e) => this.expr(this.notPositional(e, 'GROUP BY')).text).join(', ')}`,
      );
    }
    if (s.having) parts.push(`HAVING ${this.expr(s.having).text}`);
    if (s.orderBy.length) {
      const order = s.orderBy.map(
        (o) => `${this.expr(this.notPositional(o.expr, 'ORDER BY')).text} ${o.direction}`,
      );
      parts.push(`ORDER BY ${order.join(', ')}`);
    }
    const requested = s.limit?.count;
    const limit = requested === undefined ? this.maxRows : Math.min(requested, this.maxRows);
    const offset = s.limit?.offset ?? 0;
    parts.push(`LIMIT ${literal(limit).text}${offset ? ` OFFSET ${literal(offset).text}` : ''}`);

    const seconds = this.options.maxExecutionTimeSeconds ?? ANALYTICS_SQL_DEFAULTS.maxExecutionTimeSeconds;
    return {
      kind: 'query',
      sql: parts.join(' '),
      format,
      settings: { readonly: '1', max_execution_time: seconds },
      limit,
      limitClamped: requested === undefined || requested > this.maxRows,
      dataset,
    };
  }

  private dataset(): string {
    const { parts, pos } = this.statement.from;
    const name = parts.join('.');
    if (parts.length !== 1 || !this.options.datasets.includes(parts[0])) {
      const known = [...this.options.datasets].sort();
      const list = known.length
        ? `your datasets are ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', ...' : ''}`
        : 'you have no datasets yet';
      throw new AnalyticsSqlError(E.SQL_UNKNOWN_TABLE, `Unknown table '${name}': ${list}`, pos);
    }
    if (!NAME.test(parts[0])) {
      throw new AnalyticsSqlError(E.SQL_UNKNOWN_TABLE, `Unknown table '${name}'`, pos);
    }
    return parts[0];
  }

  private collectAliases(): void {
    for (const item of this.statement.items) {
      if (!item.alias) continue;
      const { name, pos } = item.alias;
      if (!NAME.test(name) || name.length > 128) {
        throw new AnalyticsSqlError(
          E.SQL_UNSUPPORTED,
          `Alias '${name.slice(0, 64)}' must be letters, digits and underscores, not starting with a digit`,
          pos,
        );
      }
      if (this.aliases.has(name)) {
        throw new AnalyticsSqlError(E.SQL_UNSUPPORTED, `Alias '${name}' is defined twice`, pos);
      }
      this.aliases.set(name, item.expr);
    }
    for (const item of this.statement.items) {
      if (item.alias) this.checkCycle(item.alias.name, [item.alias.name], item.alias.pos);
    }
  }

  /** ClickHouse substitutes aliases into each other; a cycle would be an error (or worse, on 18.16). */
  private checkCycle(alias: string, path: string[], pos: SourcePosition): void {
    const visit = (expr: Expr, owner: string): void => {
      forEachIdentifier(expr, (name) => {
        if (name === owner || !this.aliases.has(name)) return; // in its own definition a name is the column
        if (path.includes(name)) {
          throw new AnalyticsSqlError(
            E.SQL_UNSUPPORTED,
            `Aliases refer to each other in a cycle: ${[...path, name].join(' -> ')}`,
            pos,
          );
        }
        path.push(name);
        visit(this.aliases.get(name) as Expr, name);
        path.pop();
      });
    };
    visit(this.aliases.get(alias) as Expr, alias);
  }

  /**
   * The conjuncts of WHERE that only look at the row (no aggregate), with aliases replaced by what
   * they stand for, repeated inside the scoped subquery. The result is the same (the outer WHERE
   * still applies), but ClickHouse 18.16 does not push predicates into a subquery by itself, and
   * without this a query for one customer and one month would read the whole dataset instead of
   * using the primary key (tenant, dataset, index1, timestamp) and the monthly partitions.
   */
  private pushdown(where: Expr): string[] {
    const conjuncts: Expr[] = [];
    const split = (e: Expr): void => {
      if (e.kind === 'binary' && e.op === 'AND') {
        split(e.left);
        split(e.right);
      } else conjuncts.push(e);
    };
    split(where);
    const pushed: string[] = [];
    this.columnsOnly = true;
    try {
      for (const conjunct of conjuncts) {
        const inlined = this.inline(conjunct);
        if (inlined) pushed.push(this.wrap(this.expr(inlined), P.NOT));
      }
    } finally {
      this.columnsOnly = false;
    }
    return pushed;
  }

  /**
   * `expr` with every alias replaced by its definition (ClickHouse's own semantics: inside the
   * definition of alias `a`, the name `a` is the column), or undefined when it uses an aggregate.
   */
  private inline(expr: Expr, owner?: string): Expr | undefined {
    const all = (items: Expr[]): Expr[] | undefined => {
      const out: Expr[] = [];
      for (const item of items) {
        const inlined = this.inline(item, owner);
        if (!inlined) return undefined;
        out.push(inlined);
      }
      return out;
    };
    switch (expr.kind) {
      case 'identifier': {
        const definition = expr.name !== owner ? this.aliases.get(expr.name) : undefined;
        if (definition) return this.inline(definition, expr.name);
        return COLUMN_SET.has(expr.name) ? expr : undefined;
      }
      case 'string':
      case 'number':
      case 'null':
      case 'interval':
        return expr;
      case 'unary': {
        const operand = this.inline(expr.operand, owner);
        return operand && { ...expr, operand };
      }
      case 'binary': {
        const [left, right] = all([expr.left, expr.right]) ?? [];
        return left && right && { ...expr, left, right };
      }
      case 'in': {
        const [inner, ...list] = all([expr.expr, ...expr.list]) ?? [];
        return inner && { ...expr, expr: inner, list };
      }
      case 'between': {
        const [inner, low, high] = all([expr.expr, expr.low, expr.high]) ?? [];
        return inner && low && high && { ...expr, expr: inner, low, high };
      }
      case 'like': {
        const [inner, pattern] = all([expr.expr, expr.pattern]) ?? [];
        return inner && pattern && { ...expr, expr: inner, pattern };
      }
      case 'is_null': {
        const inner = this.inline(expr.expr, owner);
        return inner && { ...expr, expr: inner };
      }
      case 'call': {
        const spec = FUNCTIONS.get(expr.name.toLowerCase());
        if (!spec || spec.aggregate) return undefined;
        const args = all(expr.args);
        return args && { ...expr, args };
      }
    }
  }

  private notPositional(expr: Expr, clause: string): Expr {
    const constant = expr.kind === 'unary' && expr.op === '-' ? expr.operand : expr;
    if (constant.kind === 'number') {
      throw new AnalyticsSqlError(
        E.SQL_UNSUPPORTED,
        `${clause} ${constant.text}: positions are not supported (ClickHouse 18.16 would use the constant); name the column or its alias`,
        expr.pos,
      );
    }
    return expr;
  }

  private quoteName(name: string): string {
    return identifier(name).text;
  }

  private literal(value: string | number | bigint | null): string {
    return literal(value).text;
  }

  // ---------------------------------------------------------------------------------------------

  private expr(e: Expr): Emitted {
    switch (e.kind) {
      case 'identifier':
        return atom(this.identifier(e.name, e.pos));
      case 'string':
        return atom(this.literal(e.value));
      case 'null':
        return atom('NULL');
      case 'number':
        return atom(this.number(e.text, e.integer, false, e.pos));
      case 'interval':
        return atom(`INTERVAL ${this.literal(e.value)} ${e.unit}`);
      case 'unary':
        if (e.op === 'NOT') return { text: `NOT ${this.wrap(this.expr(e.operand), P.NOT)}`, prec: P.NOT };
        if (e.operand.kind === 'number')
          return atom(this.number(e.operand.text, e.operand.integer, true, e.operand.pos));
        // Always parenthesised: `- -x` must never become the comment `--x`.
        return atom(`-(${this.expr(e.operand).text})`);
      case 'binary': {
        const prec = BINARY_PRECEDENCE[e.op];
        const left = this.expr(e.left);
        const right = this.expr(e.right);
        // Comparisons do not chain; everything else is left-associative.
        const leftText = prec === P.COMPARE ? this.wrap(left, prec + 1) : this.wrap(left, prec);
        return { text: `${leftText} ${e.op} ${this.wrap(right, prec + 1)}`, prec };
      }
      case 'in': {
        const list = e.list.map((item) => this.inItem(item));
        return {
          text: `${this.wrap(this.expr(e.expr), P.COMPARE + 1)} ${e.negated ? 'NOT IN' : 'IN'} (${list.join(', ')})`,
          prec: P.COMPARE,
        };
      }
      case 'between':
        return {
          text:
            `${this.wrap(this.expr(e.expr), P.COMPARE + 1)} ${e.negated ? 'NOT BETWEEN' : 'BETWEEN'} ` +
            `${this.wrap(this.expr(e.low), P.COMPARE + 1)} AND ${this.wrap(this.expr(e.high), P.COMPARE + 1)}`,
          prec: P.COMPARE,
        };
      case 'like':
        return {
          text: `${this.wrap(this.expr(e.expr), P.COMPARE + 1)} ${e.negated ? 'NOT LIKE' : 'LIKE'} ${this.wrap(this.expr(e.pattern), P.COMPARE + 1)}`,
          prec: P.COMPARE,
        };
      case 'is_null':
        return {
          text: `${this.wrap(this.expr(e.expr), P.COMPARE + 1)} ${e.negated ? 'IS NOT NULL' : 'IS NULL'}`,
          prec: P.COMPARE,
        };
      case 'call':
        return atom(this.call(e));
    }
  }

  private wrap(emitted: Emitted, minPrec: number): string {
    return emitted.prec < minPrec ? `(${emitted.text})` : emitted.text;
  }

  private identifier(name: string, pos: SourcePosition): string {
    if (!this.columnsOnly && this.aliases.has(name) && name !== this.defining) return this.quoteName(name);
    if (COLUMN_SET.has(name)) return name; // emitted from the allow-list, not from the query
    const hint = COLUMN_SET.has(name.toLowerCase()) ? ` (did you mean ${name.toLowerCase()}?)` : '';
    throw new AnalyticsSqlError(
      E.SQL_UNKNOWN_COLUMN,
      `Unknown column '${name.length > 64 ? name.slice(0, 64) + '…' : name}'${hint}: a dataset has timestamp, index1, blob1..blob20, double1..double20, _sample_interval and dataset, plus the aliases of the SELECT list`,
      pos,
    );
  }

  /** Only literals: `x IN (t)` with a name would make ClickHouse read the table `t`. */
  private inItem(item: Expr): string {
    if (item.kind === 'string' || item.kind === 'number' || item.kind === 'null') return this.expr(item).text;
    if (item.kind === 'unary' && item.op === '-' && item.operand.kind === 'number')
      return this.expr(item).text;
    throw new AnalyticsSqlError(E.SQL_UNSUPPORTED, 'IN lists may contain only literal values', item.pos);
  }

  /**
   * An integer goes through `literal()`; a fraction becomes `toFloat64('<text>')` with the text of the
   * JavaScript number (`literal()` only takes integers, and this keeps the value a Float64 literal).
   */
  private number(source: string, integer: boolean, negative: boolean, pos: SourcePosition): string {
    if (integer) {
      const value = BigInt(source);
      if (value > UINT64_MAX) {
        throw new AnalyticsSqlError(
          E.SQL_SYNTAX,
          `Integer ${source.slice(0, 40)} is out of range (UInt64)`,
          pos,
        );
      }
      const signed = negative ? -value : value;
      return this.literal(
        signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(signed)
          : signed,
      );
    }
    const value = Number(source);
    if (!Number.isFinite(value)) {
      throw new AnalyticsSqlError(
        E.SQL_SYNTAX,
        `Number ${source.slice(0, 40)} is out of range (Float64)`,
        pos,
      );
    }
    return `toFloat64(${this.literal(String(negative ? -value : value))})`;
  }

  private call(e: Extract<Expr, { kind: 'call' }>): string {
    const spec = FUNCTIONS.get(e.name.toLowerCase());
    if (!spec) {
      throw new AnalyticsSqlError(
        E.SQL_UNKNOWN_FUNCTION,
        `Unknown function '${e.name.length > 64 ? e.name.slice(0, 64) + '…' : e.name}' (see docs/analytics-engine.md for the supported ones)`,
        e.pos,
      );
    }
    if (e.star) {
      if (spec.name !== 'count') {
        throw new AnalyticsSqlError(E.SQL_UNSUPPORTED, '`*` is only allowed in count(*)', e.pos);
      }
      return 'count()';
    }
    if (e.params !== undefined && spec.name !== 'quantileExactWeighted') {
      throw new AnalyticsSqlError(
        E.SQL_UNSUPPORTED,
        `${spec.name} takes no parameters: ${spec.name}(...)(...)`,
        e.pos,
      );
    }
    if (e.distinct) {
      if (spec.name !== 'count' || e.args.length !== 1) {
        throw new AnalyticsSqlError(
          E.SQL_UNSUPPORTED,
          'DISTINCT is only supported as count(DISTINCT x)',
          e.pos,
        );
      }
      return `uniqExact(${this.expr(e.args[0]).text})`;
    }
    if (e.args.length < spec.minArgs || e.args.length > spec.maxArgs) {
      const expected =
        spec.minArgs === spec.maxArgs
          ? `${spec.minArgs}`
          : spec.maxArgs === Infinity
            ? `at least ${spec.minArgs}`
            : `${spec.minArgs} to ${spec.maxArgs}`;
      throw new AnalyticsSqlError(
        E.SQL_SYNTAX,
        `${spec.name} takes ${expected} argument${expected === '1' ? '' : 's'}, got ${e.args.length}`,
        e.pos,
      );
    }
    if (spec.name === 'quantileExactWeighted') return this.quantile(e);
    if (spec.rewrite) return this.expand(spec, e);
    const args = e.args.map((a) => this.expr(a).text);
    // A DateTime without a time zone would be read in the server's; the data is UTC, as in Cloudflare.
    if (spec.name === 'toDateTime' && args.length === 1) args.push(this.literal('UTC'));
    return `${spec.name}(${args.join(', ')})`;
  }

  private quantile(e: Extract<Expr, { kind: 'call' }>): string {
    const level = e.params?.length === 1 ? e.params[0] : undefined;
    // A parameter must be a literal for ClickHouse, so the level is the JavaScript text of a checked
    // number in [0, 1] (digits, '.', 'e', '-' only), not a string literal.
    const value = level?.kind === 'number' ? Number(level.text) : NaN;
    if (!(value >= 0 && value <= 1)) {
      throw new AnalyticsSqlError(
        E.SQL_UNSUPPORTED,
        'quantileExactWeighted needs one level between 0 and 1: quantileExactWeighted(0.5)(double1, _sample_interval)',
        e.pos,
      );
    }
    return `quantileExactWeighted(${String(value)})(${e.args.map((a) => this.expr(a).text).join(', ')})`;
  }

  /**
   * The functions 18.16 lacks, in terms of ones both generations have, with the same results; for
   * `target: 'modern'` the native call, after the same checks of its arguments.
   */
  private expand(spec: FunctionSpec, e: Extract<Expr, { kind: 'call' }>): string {
    const compatible = this.expandCompatible(spec, e);
    if (this.options.target !== 'modern') return compatible;
    const ts = this.expr(e.args[0]).text;
    const second = e.args[1];
    if (spec.name === 'toStartOfInterval' && second?.kind === 'interval') {
      return `toStartOfInterval(${ts}, INTERVAL ${this.literal(second.value)} ${second.unit})`;
    }
    // Modern servers spell it with a plural (26.7 has no toStartOfFifteenMinute): found by the parity suite.
    const name = spec.name === 'toStartOfFifteenMinute' ? 'toStartOfFifteenMinutes' : spec.name;
    return `${name}(${[ts, ...(second ? [this.expr(second).text] : [])].join(', ')})`;
  }

  private expandCompatible(spec: FunctionSpec, e: Extract<Expr, { kind: 'call' }>): string {
    const ts = this.expr(e.args[0]).text;
    const utc = this.literal('UTC');
    const epochFloor = (seconds: number): string => {
      const n = this.literal(seconds);
      return `toDateTime(intDiv(toUInt32(${ts}), ${n}) * ${n}, ${utc})`;
    };
    switch (spec.name) {
      case 'toStartOfTenMinutes':
        return epochFloor(600);
      case 'toStartOfFifteenMinute':
        return epochFloor(900);
      case 'toStartOfWeek': {
        // Mode 0 (the default) and every even mode start weeks on Sunday, odd modes on Monday.
        const mode = e.args[1];
        if (mode && !(mode.kind === 'number' && mode.integer && Number(mode.text) <= 9)) {
          throw new AnalyticsSqlError(
            E.SQL_UNSUPPORTED,
            'toStartOfWeek mode must be an integer 0-9',
            mode.pos,
          );
        }
        if (mode && Number(mode.text) % 2 === 1) return `toMonday(${ts})`;
        return `(toMonday(toDate(${ts}) + 1) - 1)`; // parenthesised: the call must stay one operand
      }
      case 'toStartOfInterval':
        return this.startOfInterval(ts, e.args[1]);
      default:
        throw new AnalyticsSqlError(E.SQL_UNSUPPORTED, `${spec.name} is not supported`, e.pos);
    }
  }

  /**
   * `toStartOfInterval(ts, INTERVAL n UNIT)` with ClickHouse's own anchors: seconds, minutes and days
   * count from the epoch, hours from midnight of the day, weeks from Monday 1970-01-05, months,
   * quarters and years from January of year 0. Like the native function it returns a DateTime up to
   * DAY and a Date from WEEK on.
   */
  private startOfInterval(ts: string, interval: Expr): string {
    if (interval.kind !== 'interval') {
      throw new AnalyticsSqlError(
        E.SQL_UNSUPPORTED,
        "toStartOfInterval's second argument must be an interval: INTERVAL '1' DAY",
        interval.pos,
      );
    }
    const n = interval.value;
    if (n < 1)
      throw new AnalyticsSqlError(E.SQL_UNSUPPORTED, 'The interval must be at least 1', interval.pos);
    const lit = (v: number): string => this.literal(v);
    const utc = this.literal('UTC');
    const epochFloor = (seconds: number): string =>
      `toDateTime(intDiv(toUInt32(${ts}), ${lit(seconds)}) * ${lit(seconds)}, ${utc})`;
    const months = (count: number, what: string): string => {
      if (12 % count !== 0) {
        throw new AnalyticsSqlError(
          E.SQL_UNSUPPORTED,
          `INTERVAL ${n} ${what} does not divide a year; use 1, 2, 3, 4, 6 or 12 months (1, 2 or 4 quarters)`,
          interval.pos,
        );
      }
      return `addMonths(toStartOfYear(${ts}), intDiv(toMonth(${ts}) - 1, ${lit(count)}) * ${lit(count)})`;
    };
    switch (interval.unit) {
      case 'SECOND':
        return epochFloor(n);
      case 'MINUTE':
        if (n === 1) return `toStartOfMinute(${ts})`;
        if (n === 5) return `toStartOfFiveMinute(${ts})`;
        return epochFloor(n * 60);
      case 'HOUR':
        if (n === 1) return `toStartOfHour(${ts})`;
        return `toDateTime(toUInt32(toStartOfDay(${ts})) + intDiv(toHour(${ts}), ${lit(n)}) * ${lit(n * 3600)}, ${utc})`;
      case 'DAY':
        if (n === 1) return `toStartOfDay(${ts})`;
        return epochFloor(n * 86400);
      case 'WEEK':
        if (n === 1) return `toMonday(${ts})`;
        return `(toDate(${this.literal('1970-01-05')}) + intDiv(toRelativeDayNum(${ts}) - 4, ${lit(7 * n)}) * ${lit(7 * n)})`;
      case 'MONTH':
        if (n === 1) return `toStartOfMonth(${ts})`;
        return months(n, 'MONTH');
      case 'QUARTER':
        if (n === 1) return `toStartOfQuarter(${ts})`;
        return months(3 * n, 'QUARTER');
      case 'YEAR':
        if (n === 1) return `toStartOfYear(${ts})`;
        return `addYears(toStartOfYear(${ts}), 0 - toYear(${ts}) % ${lit(n)})`;
    }
  }
}

function forEachIdentifier(expr: Expr, visit: (name: string) => void): void {
  switch (expr.kind) {
    case 'identifier':
      visit(expr.name);
      return;
    case 'unary':
      forEachIdentifier(expr.operand, visit);
      return;
    case 'binary':
      forEachIdentifier(expr.left, visit);
      forEachIdentifier(expr.right, visit);
      return;
    case 'in':
      forEachIdentifier(expr.expr, visit);
      expr.list.forEach((e) => forEachIdentifier(e, visit));
      return;
    case 'between':
      forEachIdentifier(expr.expr, visit);
      forEachIdentifier(expr.low, visit);
      forEachIdentifier(expr.high, visit);
      return;
    case 'like':
      forEachIdentifier(expr.expr, visit);
      forEachIdentifier(expr.pattern, visit);
      return;
    case 'is_null':
      forEachIdentifier(expr.expr, visit);
      return;
    case 'call':
      expr.params?.forEach((e) => forEachIdentifier(e, visit));
      expr.args.forEach((e) => forEachIdentifier(e, visit));
      return;
    default:
      return;
  }
}
