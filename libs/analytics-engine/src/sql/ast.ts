import type { SourcePosition } from './errors';

export type IntervalUnit = 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';

export type BinaryOperator =
  'OR' | 'AND' | '=' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

/** An expression. Every node keeps its position for the errors of the rewriter. */
export type Expr =
  /** A column or an alias of the SELECT list. */
  | { kind: 'identifier'; name: string; pos: SourcePosition }
  | { kind: 'string'; value: string; pos: SourcePosition }
  /** `text` as written (digits, one dot, an exponent); `integer` when it has neither dot nor exponent. */
  | { kind: 'number'; text: string; integer: boolean; pos: SourcePosition }
  | { kind: 'null'; pos: SourcePosition }
  /** `INTERVAL 1 DAY` / `INTERVAL '1' DAY`; `value` is a non-negative integer. */
  | { kind: 'interval'; value: number; unit: IntervalUnit; pos: SourcePosition }
  | {
      kind: 'call';
      /** As written; matched against the allow-list without regard to case. */
      name: string;
      /** The first parentheses of a parametric aggregate: `quantileExactWeighted(0.5)(x, w)`. */
      params?: Expr[];
      args: Expr[];
      /** `count(*)`. */
      star: boolean;
      /** `count(DISTINCT x)`. */
      distinct: boolean;
      pos: SourcePosition;
    }
  | { kind: 'unary'; op: '-' | 'NOT'; operand: Expr; pos: SourcePosition }
  | { kind: 'binary'; op: BinaryOperator; left: Expr; right: Expr; pos: SourcePosition }
  | { kind: 'in'; expr: Expr; list: Expr[]; negated: boolean; pos: SourcePosition }
  | { kind: 'between'; expr: Expr; low: Expr; high: Expr; negated: boolean; pos: SourcePosition }
  | { kind: 'like'; expr: Expr; pattern: Expr; negated: boolean; pos: SourcePosition }
  | { kind: 'is_null'; expr: Expr; negated: boolean; pos: SourcePosition };

export interface SelectItem {
  expr: Expr;
  alias?: { name: string; pos: SourcePosition };
}

export interface OrderItem {
  expr: Expr;
  direction: 'ASC' | 'DESC';
}

export type OutputFormat = 'JSON' | 'JSONEachRow' | 'TabSeparated';

export interface TableRef {
  /** `dataset`, or more than one part for a qualified name such as `system.tables` (never a dataset). */
  parts: string[];
  pos: SourcePosition;
}

export interface SelectStatement {
  kind: 'select';
  distinct: boolean;
  items: SelectItem[];
  from: TableRef;
  where?: Expr;
  groupBy: Expr[];
  having?: Expr;
  orderBy: OrderItem[];
  limit?: { count: number; offset: number; pos: SourcePosition };
  format?: OutputFormat;
}

export interface ShowTablesStatement {
  kind: 'show_tables';
  format?: OutputFormat;
}

export type Statement = SelectStatement | ShowTablesStatement;
