import type {
  BinaryOperator,
  Expr,
  IntervalUnit,
  OrderItem,
  OutputFormat,
  SelectItem,
  SelectStatement,
  Statement,
  TableRef,
} from './ast';
import { AnalyticsSqlError, AnalyticsSqlErrorCode as E, type SourcePosition } from './errors';
import { tokenize, type Token } from './tokenizer';

/** Words that end an expression or a clause, so never an implicit alias (`SELECT blob1 endpoint`). */
const RESERVED = new Set([
  'ALL',
  'AND',
  'ANY',
  'ARRAY',
  'AS',
  'ASC',
  'ASOF',
  'BETWEEN',
  'BY',
  'CASE',
  'COLLATE',
  'CROSS',
  'DESC',
  'DISTINCT',
  'ELSE',
  'END',
  'EXCEPT',
  'FINAL',
  'FORMAT',
  'FROM',
  'FULL',
  'GLOBAL',
  'GROUP',
  'HAVING',
  'ILIKE',
  'IN',
  'INNER',
  'INTERSECT',
  'INTERVAL',
  'INTO',
  'IS',
  'JOIN',
  'LEFT',
  'LIKE',
  'LIMIT',
  'NOT',
  'NULL',
  'NULLS',
  'OFFSET',
  'ON',
  'OR',
  'ORDER',
  'OUTER',
  'PASTE',
  'PREWHERE',
  'RIGHT',
  'SAMPLE',
  'SELECT',
  'SEMI',
  'SETTINGS',
  'THEN',
  'UNION',
  'USING',
  'WHEN',
  'WHERE',
  'WINDOW',
  'WITH',
  'QUALIFY',
]);

/** Clauses of ClickHouse's SELECT that the dialect leaves out, with the reason given to the user. */
const UNSUPPORTED_CLAUSES: Record<string, string> = {
  JOIN: 'Joins are not supported: a query reads one dataset',
  LEFT: 'Joins are not supported: a query reads one dataset',
  RIGHT: 'Joins are not supported: a query reads one dataset',
  INNER: 'Joins are not supported: a query reads one dataset',
  OUTER: 'Joins are not supported: a query reads one dataset',
  FULL: 'Joins are not supported: a query reads one dataset',
  CROSS: 'Joins are not supported: a query reads one dataset',
  GLOBAL: 'Joins are not supported: a query reads one dataset',
  ANY: 'Joins are not supported: a query reads one dataset',
  ALL: 'Joins are not supported: a query reads one dataset',
  ASOF: 'Joins are not supported: a query reads one dataset',
  SEMI: 'Joins are not supported: a query reads one dataset',
  PASTE: 'Joins are not supported: a query reads one dataset',
  ARRAY: 'ARRAY JOIN is not supported',
  USING: 'Joins are not supported: a query reads one dataset',
  ON: 'Joins are not supported: a query reads one dataset',
  UNION: 'UNION is not supported: one SELECT per query',
  INTERSECT: 'INTERSECT is not supported: one SELECT per query',
  EXCEPT: 'EXCEPT is not supported: one SELECT per query',
  INTO: 'INTO OUTFILE is not supported: results are returned in the response',
  SETTINGS: 'SETTINGS is not supported: the server applies its own limits',
  PREWHERE: 'PREWHERE is not supported; use WHERE',
  SAMPLE: 'SAMPLE is not supported: the data is already sampled, see _sample_interval',
  FINAL: 'FINAL is not supported',
  WINDOW: 'Window functions are not supported',
  QUALIFY: 'QUALIFY is not supported',
  WITH: 'WITH is not supported',
  AS: 'Table aliases are not supported; name columns directly',
};

const COMPARISON: Record<string, BinaryOperator> = {
  '=': '=',
  '==': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

const UNITS: Record<string, IntervalUnit> = {
  SECOND: 'SECOND',
  SECONDS: 'SECOND',
  MINUTE: 'MINUTE',
  MINUTES: 'MINUTE',
  HOUR: 'HOUR',
  HOURS: 'HOUR',
  DAY: 'DAY',
  DAYS: 'DAY',
  WEEK: 'WEEK',
  WEEKS: 'WEEK',
  MONTH: 'MONTH',
  MONTHS: 'MONTH',
  QUARTER: 'QUARTER',
  QUARTERS: 'QUARTER',
  YEAR: 'YEAR',
  YEARS: 'YEAR',
};

const FORMATS: Record<string, OutputFormat> = {
  JSON: 'JSON',
  JSONEACHROW: 'JSONEachRow',
  TABSEPARATED: 'TabSeparated',
  TSV: 'TabSeparated',
};

const STATEMENT_WORDS = new Set([
  'INSERT',
  'CREATE',
  'DROP',
  'ALTER',
  'DELETE',
  'UPDATE',
  'TRUNCATE',
  'RENAME',
  'ATTACH',
  'DETACH',
  'OPTIMIZE',
  'SET',
  'USE',
  'KILL',
  'GRANT',
  'REVOKE',
  'SYSTEM',
  'DESCRIBE',
  'DESC',
  'EXPLAIN',
  'EXISTS',
  'CHECK',
  'EXCHANGE',
  'WATCH',
  'BACKUP',
  'RESTORE',
  'UNDROP',
  'MOVE',
]);

const MAX_DEPTH = 64;

export interface ParseOptions {
  /** Longest query text accepted, in UTF-16 units (default 100,000). */
  maxLength?: number;
}

/**
 * Parses one statement of the SQL API dialect (see docs/analytics-engine.md): a SELECT over one
 * dataset, or `SHOW TABLES`, optionally followed by `;`. Throws `AnalyticsSqlError` with the code
 * and the line and column of the first problem.
 */
export function parseAnalyticsSql(text: string, options: ParseOptions = {}): Statement {
  const maxLength = options.maxLength ?? 100_000;
  if (typeof text !== 'string') throw new AnalyticsSqlError(E.SQL_SYNTAX, 'The query must be SQL text');
  if (text.length > maxLength) {
    throw new AnalyticsSqlError(E.SQL_UNSUPPORTED, `The query is longer than ${maxLength} characters`);
  }
  return new Parser(tokenize(text)).statement();
}

function describe(token: Token): string {
  switch (token.type) {
    case 'eof':
      return 'the end of the query';
    case 'string':
      return 'a string literal';
    case 'number':
      return `number ${token.value}`;
    case 'quoted':
      return `identifier \`${token.value}\``;
    case 'word':
      return RESERVED.has(token.value.toUpperCase()) || STATEMENT_WORDS.has(token.value.toUpperCase())
        ? token.value.toUpperCase()
        : `'${token.value}'`;
    default:
      return `'${token.value}'`;
  }
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  statement(): Statement {
    const first = this.peek();
    let statement: Statement;
    if (this.isWord('SELECT')) {
      statement = this.select();
    } else if (this.isWord('SHOW')) {
      this.next();
      if (!this.isWord('TABLES'))
        throw this.syntax(`Expected TABLES after SHOW, found ${describe(this.peek())}`);
      this.next();
      statement = { kind: 'show_tables', format: this.format() };
    } else if (this.isWord('WITH')) {
      throw this.unsupported('WITH (common table expressions) is not supported', first.pos);
    } else if (this.isSymbol('(')) {
      throw this.unsupported('Subqueries are not supported: write one SELECT', first.pos);
    } else if (first.type === 'word' && STATEMENT_WORDS.has(first.value.toUpperCase())) {
      throw this.unsupported(
        `Only SELECT and SHOW TABLES are supported, not ${first.value.toUpperCase()}`,
        first.pos,
      );
    } else if (first.type === 'eof') {
      throw new AnalyticsSqlError(E.SQL_SYNTAX, 'The query is empty', first.pos);
    } else {
      throw this.syntax(`Expected SELECT or SHOW TABLES, found ${describe(first)}`);
    }
    if (this.isSymbol(';')) {
      const semicolon = this.next();
      if (this.peek().type !== 'eof') {
        throw this.unsupported('Only one statement per request is supported', semicolon.pos);
      }
    }
    const rest = this.peek();
    if (rest.type !== 'eof') this.unexpected(rest);
    return statement;
  }

  // ---------------------------------------------------------------------------------------------
  // SELECT

  private select(): SelectStatement {
    this.next(); // SELECT
    const distinct = this.acceptWord('DISTINCT');
    if (this.isWord('ALL')) this.next();
    const items: SelectItem[] = [this.selectItem()];
    while (this.acceptSymbol(',')) items.push(this.selectItem());
    if (!this.isWord('FROM')) {
      const t = this.peek();
      if (t.type === 'eof' || this.isSymbol(';')) {
        throw this.syntax('Expected FROM <dataset>: every query reads one dataset');
      }
      this.unexpected(t);
    }
    this.next();
    const from = this.tableRef();
    const statement: SelectStatement = { kind: 'select', distinct, items, from, groupBy: [], orderBy: [] };
    if (this.acceptWord('WHERE')) statement.where = this.expr();
    if (this.isWord('GROUP')) {
      this.next();
      this.expectWord('BY');
      statement.groupBy.push(this.expr());
      while (this.acceptSymbol(',')) statement.groupBy.push(this.expr());
      if (this.isWord('WITH')) {
        throw this.unsupported('GROUP BY ... WITH TOTALS/ROLLUP/CUBE is not supported', this.peek().pos);
      }
    }
    if (this.acceptWord('HAVING')) statement.having = this.expr();
    if (this.isWord('ORDER')) {
      this.next();
      this.expectWord('BY');
      statement.orderBy.push(this.orderItem());
      while (this.acceptSymbol(',')) statement.orderBy.push(this.orderItem());
    }
    if (this.isWord('LIMIT')) statement.limit = this.limit();
    statement.format = this.format();
    return statement;
  }

  private selectItem(): SelectItem {
    if (this.isSymbol('*')) {
      throw this.unsupported(
        '`*` is only allowed in count(*); list the columns (timestamp, index1, blob1..blob20, double1..double20, _sample_interval, dataset)',
        this.peek().pos,
      );
    }
    const expr = this.expr();
    if (this.acceptWord('AS')) return { expr, alias: this.aliasName() };
    const t = this.peek();
    if ((t.type === 'word' && !RESERVED.has(t.value.toUpperCase())) || t.type === 'quoted') {
      return { expr, alias: this.aliasName() };
    }
    return { expr };
  }

  private aliasName(): { name: string; pos: SourcePosition } {
    const t = this.peek();
    if (t.type === 'word' || t.type === 'quoted') {
      this.next();
      return { name: t.value, pos: t.pos };
    }
    throw this.syntax(`Expected an alias after AS, found ${describe(t)}`);
  }

  private tableRef(): TableRef {
    const t = this.peek();
    if (this.isSymbol('(')) {
      throw this.unsupported('Subqueries are not supported: FROM names one dataset', t.pos);
    }
    if (!(t.type === 'word' || t.type === 'quoted')) {
      throw this.syntax(`Expected a dataset name after FROM, found ${describe(t)}`);
    }
    if (t.type === 'word' && (t.value.toUpperCase() === 'SELECT' || t.value.toUpperCase() === 'WITH')) {
      throw this.unsupported('Subqueries are not supported: FROM names one dataset', t.pos);
    }
    this.next();
    const parts = [t.value];
    while (this.isSymbol('.')) {
      this.next();
      const part = this.peek();
      if (!(part.type === 'word' || part.type === 'quoted')) {
        throw this.syntax(`Expected a name after '.', found ${describe(part)}`);
      }
      this.next();
      parts.push(part.value);
    }
    if (this.isSymbol('(')) {
      throw this.unsupported(
        `Table functions such as ${parts.join('.')}() are not supported: FROM names one dataset`,
        t.pos,
      );
    }
    if (this.isSymbol(',')) {
      throw this.unsupported('Joins are not supported: a query reads one dataset', this.peek().pos);
    }
    const after = this.peek();
    if (after.type === 'quoted' || (after.type === 'word' && !RESERVED.has(after.value.toUpperCase()))) {
      throw this.unsupported('Table aliases are not supported; name columns directly', after.pos);
    }
    return { parts, pos: t.pos };
  }

  private orderItem(): OrderItem {
    const expr = this.expr();
    let direction: 'ASC' | 'DESC' = 'ASC';
    if (this.acceptWord('ASC')) direction = 'ASC';
    else if (this.acceptWord('DESC')) direction = 'DESC';
    if (this.isWord('NULLS') || this.isWord('COLLATE') || this.isWord('WITH')) {
      throw this.unsupported(
        `ORDER BY ... ${this.peek().value.toUpperCase()} is not supported`,
        this.peek().pos,
      );
    }
    return { expr, direction };
  }

  private limit(): { count: number; offset: number; pos: SourcePosition } {
    const pos = this.next().pos; // LIMIT
    let count = this.limitNumber();
    let offset = 0;
    if (this.acceptSymbol(',')) {
      offset = count;
      count = this.limitNumber();
    } else if (this.acceptWord('OFFSET')) {
      offset = this.limitNumber();
    }
    if (this.isWord('BY')) throw this.unsupported('LIMIT ... BY is not supported', this.peek().pos);
    if (this.isWord('WITH')) throw this.unsupported('LIMIT ... WITH TIES is not supported', this.peek().pos);
    return { count, offset, pos };
  }

  private limitNumber(): number {
    const t = this.peek();
    if (t.type !== 'number' || !/^\d+$/.test(t.value)) {
      throw this.syntax(`Expected a non-negative integer, found ${describe(t)}`);
    }
    const n = Number(t.value);
    if (!Number.isSafeInteger(n)) throw this.syntax(`${t.value} is too large`);
    this.next();
    return n;
  }

  private format(): OutputFormat | undefined {
    if (!this.isWord('FORMAT')) return undefined;
    this.next();
    const t = this.peek();
    const format = t.type === 'word' ? FORMATS[t.value.toUpperCase()] : undefined;
    if (!format) {
      throw this.unsupported(
        `Output format ${t.type === 'word' ? `'${t.value}'` : describe(t)} is not supported; use JSON, JSONEachRow or TabSeparated`,
        t.pos,
      );
    }
    this.next();
    return format;
  }

  // ---------------------------------------------------------------------------------------------
  // Expressions, lowest precedence first: OR, AND, NOT, comparison, + -, * / %, unary -, primary.

  private expr(): Expr {
    if (++this.depth > MAX_DEPTH) {
      throw this.unsupported(`The expression is nested more than ${MAX_DEPTH} levels deep`, this.peek().pos);
    }
    try {
      return this.or();
    } finally {
      this.depth--;
    }
  }

  private or(): Expr {
    let left = this.and();
    while (this.isWord('OR')) {
      const pos = this.next().pos;
      left = { kind: 'binary', op: 'OR', left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isWord('AND')) {
      const pos = this.next().pos;
      left = { kind: 'binary', op: 'AND', left, right: this.not(), pos };
    }
    return left;
  }

  private not(): Expr {
    if (this.isWord('NOT')) {
      const pos = this.next().pos;
      return { kind: 'unary', op: 'NOT', operand: this.nested(() => this.not()), pos };
    }
    return this.comparison();
  }

  private comparison(): Expr {
    let left = this.additive();
    for (;;) {
      const t = this.peek();
      if (t.type === 'symbol' && COMPARISON[t.value]) {
        this.next();
        left = { kind: 'binary', op: COMPARISON[t.value], left, right: this.additive(), pos: t.pos };
        continue;
      }
      const negated = this.isWord('NOT') && this.isWordAt(1, ['IN', 'BETWEEN', 'LIKE', 'ILIKE']);
      if (negated) this.next();
      if (this.isWord('IN')) {
        left = this.inList(left, negated);
      } else if (this.isWord('BETWEEN')) {
        const pos = this.next().pos;
        const low = this.additive();
        this.expectWord('AND');
        left = { kind: 'between', expr: left, low, high: this.additive(), negated, pos };
      } else if (this.isWord('LIKE')) {
        const pos = this.next().pos;
        left = { kind: 'like', expr: left, pattern: this.additive(), negated, pos };
      } else if (this.isWord('ILIKE')) {
        throw this.unsupported('ILIKE is not supported; compare lower(x) with LIKE', this.peek().pos);
      } else if (this.isWord('IS')) {
        const pos = this.next().pos;
        const isNot = this.acceptWord('NOT');
        this.expectWord('NULL');
        left = { kind: 'is_null', expr: left, negated: isNot, pos };
      } else {
        return left;
      }
    }
  }

  private inList(left: Expr, negated: boolean): Expr {
    const pos = this.next().pos; // IN
    if (!this.isSymbol('(')) {
      throw this.unsupported("IN needs a parenthesised list of values: x IN ('a', 'b')", this.peek().pos);
    }
    this.next();
    if (this.isWord('SELECT') || this.isWord('WITH')) {
      throw this.unsupported('Subqueries are not supported', this.peek().pos);
    }
    const list: Expr[] = [this.expr()];
    while (this.acceptSymbol(',')) list.push(this.expr());
    this.expectSymbol(')');
    return { kind: 'in', expr: left, list, negated, pos };
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isSymbol('+') || this.isSymbol('-')) {
      const t = this.next();
      left = { kind: 'binary', op: t.value as '+' | '-', left, right: this.multiplicative(), pos: t.pos };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isSymbol('*') || this.isSymbol('/') || this.isSymbol('%')) {
      const t = this.next();
      left = { kind: 'binary', op: t.value as '*' | '/' | '%', left, right: this.unary(), pos: t.pos };
    }
    return left;
  }

  private unary(): Expr {
    if (this.isSymbol('-')) {
      const pos = this.next().pos;
      return { kind: 'unary', op: '-', operand: this.nested(() => this.unary()), pos };
    }
    if (this.isSymbol('+')) {
      this.next();
      return this.nested(() => this.unary());
    }
    return this.primary();
  }

  private nested(parse: () => Expr): Expr {
    if (++this.depth > MAX_DEPTH) {
      throw this.unsupported(`The expression is nested more than ${MAX_DEPTH} levels deep`, this.peek().pos);
    }
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.type) {
      case 'number':
        this.next();
        return { kind: 'number', text: t.value, integer: /^\d+$/.test(t.value), pos: t.pos };
      case 'string':
        this.next();
        return { kind: 'string', value: t.value, pos: t.pos };
      case 'symbol':
        if (t.value === '(') return this.parenthesised();
        if (t.value === '*') {
          throw this.unsupported('`*` is only allowed in count(*)', t.pos);
        }
        throw this.syntax(`Expected an expression, found ${describe(t)}`);
      case 'quoted':
        return this.name();
      case 'word': {
        const upper = t.value.toUpperCase();
        if (upper === 'NULL') {
          this.next();
          return { kind: 'null', pos: t.pos };
        }
        if (upper === 'INTERVAL') return this.interval();
        if (upper === 'CASE') {
          throw this.unsupported('CASE is not supported; use if(cond, a, b) or multiIf(...)', t.pos);
        }
        if (upper === 'SELECT' || upper === 'WITH')
          throw this.unsupported('Subqueries are not supported', t.pos);
        if (RESERVED.has(upper)) throw this.syntax(`Expected an expression, found ${describe(t)}`);
        return this.name();
      }
      default:
        throw this.syntax(`Expected an expression, found ${describe(t)}`);
    }
  }

  private parenthesised(): Expr {
    this.next(); // (
    if (this.isWord('SELECT') || this.isWord('WITH')) {
      throw this.unsupported('Subqueries are not supported', this.peek().pos);
    }
    const inner = this.expr();
    if (this.isSymbol(',')) throw this.unsupported('Tuples are not supported', this.peek().pos);
    this.expectSymbol(')');
    return inner;
  }

  private name(): Expr {
    const t = this.next();
    if (this.isSymbol('.')) {
      throw this.unsupported(
        `Qualified names such as ${t.value}.${this.tokens[this.i + 1]?.value ?? ''} are not supported; name columns directly`,
        t.pos,
      );
    }
    if (this.isSymbol('(')) return this.call(t);
    return { kind: 'identifier', name: t.value, pos: t.pos };
  }

  private call(name: Token): Expr {
    let first = this.callArguments(true);
    if (this.isSymbol('(')) {
      // name(params)(args): a parametric aggregate such as quantileExactWeighted(0.5)(double1, _sample_interval)
      if (first.star || first.distinct) throw this.syntax(`Unexpected '(' after ${name.value}(...)`);
      const params = first.args;
      first = this.callArguments(false);
      return {
        kind: 'call',
        name: name.value,
        params,
        args: first.args,
        star: false,
        distinct: first.distinct,
        pos: name.pos,
      };
    }
    return {
      kind: 'call',
      name: name.value,
      args: first.args,
      star: first.star,
      distinct: first.distinct,
      pos: name.pos,
    };
  }

  private callArguments(allowStar: boolean): { args: Expr[]; star: boolean; distinct: boolean } {
    this.expectSymbol('(');
    if (allowStar && this.isSymbol('*') && this.isSymbolAt(1, ')')) {
      this.next();
      this.next();
      return { args: [], star: true, distinct: false };
    }
    const distinct = this.acceptWord('DISTINCT');
    const args: Expr[] = [];
    if (!this.isSymbol(')')) {
      args.push(this.expr());
      while (this.acceptSymbol(',')) args.push(this.expr());
    }
    this.expectSymbol(')');
    return { args, star: false, distinct };
  }

  private interval(): Expr {
    const pos = this.next().pos; // INTERVAL
    const t = this.peek();
    let digits: string | undefined;
    if (t.type === 'number' && /^\d+$/.test(t.value)) digits = t.value;
    if (t.type === 'string' && /^\s*\d+\s*$/.test(t.value)) digits = t.value.trim();
    if (digits === undefined) {
      throw this.syntax(`Expected a whole number after INTERVAL (INTERVAL '1' DAY), found ${describe(t)}`);
    }
    const value = Number(digits);
    if (!Number.isSafeInteger(value)) throw this.syntax(`INTERVAL ${digits} is too large`);
    this.next();
    const u = this.peek();
    const unit = u.type === 'word' ? UNITS[u.value.toUpperCase()] : undefined;
    if (!unit) {
      throw this.syntax(
        `Expected an interval unit (SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER or YEAR), found ${describe(u)}`,
      );
    }
    this.next();
    return { kind: 'interval', value, unit, pos };
  }

  // ---------------------------------------------------------------------------------------------
  // Token helpers

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    const t = this.tokens[this.i];
    if (t.type !== 'eof') this.i++;
    return t;
  }

  private isWord(word: string): boolean {
    const t = this.tokens[this.i];
    return t.type === 'word' && t.value.toUpperCase() === word;
  }

  private isWordAt(ahead: number, words: string[]): boolean {
    const t = this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)];
    return t.type === 'word' && words.includes(t.value.toUpperCase());
  }

  private isSymbol(symbol: string): boolean {
    const t = this.tokens[this.i];
    return t.type === 'symbol' && t.value === symbol;
  }

  private isSymbolAt(ahead: number, symbol: string): boolean {
    const t = this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)];
    return t.type === 'symbol' && t.value === symbol;
  }

  private acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.next();
    return true;
  }

  private acceptSymbol(symbol: string): boolean {
    if (!this.isSymbol(symbol)) return false;
    this.next();
    return true;
  }

  private expectWord(word: string): void {
    if (!this.acceptWord(word)) throw this.syntax(`Expected ${word}, found ${describe(this.peek())}`);
  }

  private expectSymbol(symbol: string): void {
    if (!this.acceptSymbol(symbol)) throw this.syntax(`Expected '${symbol}', found ${describe(this.peek())}`);
  }

  /** A token where the statement should end or a clause begin: an unsupported clause, or a syntax error. */
  private unexpected(t: Token): never {
    if (t.type === 'word') {
      const reason = UNSUPPORTED_CLAUSES[t.value.toUpperCase()];
      if (reason) throw this.unsupported(reason, t.pos);
    }
    if (t.type === 'symbol' && t.value === ';') {
      throw this.unsupported('Only one statement per request is supported', t.pos);
    }
    throw this.syntax(`Unexpected ${describe(t)}`, t.pos);
  }

  private syntax(reason: string, pos: SourcePosition = this.peek().pos): AnalyticsSqlError {
    return new AnalyticsSqlError(E.SQL_SYNTAX, reason, pos);
  }

  private unsupported(reason: string, pos: SourcePosition): AnalyticsSqlError {
    return new AnalyticsSqlError(E.SQL_UNSUPPORTED, reason, pos);
  }
}
