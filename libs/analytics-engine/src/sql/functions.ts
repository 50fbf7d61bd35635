/**
 * The functions a query may call. Every name is emitted from this table (never from the query text),
 * and every one exists on ClickHouse 18.16 as well as on modern servers; the few that 18.16 lacks
 * (`toStartOfInterval`, `toStartOfFifteenMinute`, `toStartOfTenMinutes`, `toStartOfWeek`) are
 * `rewrite` entries, expanded into functions it has. `analytics-engine.int-spec.ts` checks the list
 * against the server's `system.functions`.
 */
export interface FunctionSpec {
  /** Canonical spelling, the one emitted. */
  name: string;
  minArgs: number;
  /** `Infinity` for variadic functions. */
  maxArgs: number;
  aggregate?: boolean;
  /** Expanded by the rewriter into other allow-listed functions (see rewrite.ts). */
  rewrite?: boolean;
}

const f = (
  name: string,
  minArgs: number,
  maxArgs = minArgs,
  extra: Partial<FunctionSpec> = {},
): FunctionSpec => ({ name, minArgs, maxArgs, ...extra });
const agg = (name: string, minArgs: number, maxArgs = minArgs): FunctionSpec =>
  f(name, minArgs, maxArgs, { aggregate: true });

const SPECS: FunctionSpec[] = [
  // aggregates (quantileExactWeighted takes its level as a parameter: quantileExactWeighted(0.5)(x, w))
  agg('count', 0, 1),
  agg('sum', 1),
  agg('avg', 1),
  agg('min', 1),
  agg('max', 1),
  agg('any', 1),
  agg('anyLast', 1),
  agg('argMax', 2),
  agg('argMin', 2),
  agg('uniq', 1, Infinity),
  agg('uniqExact', 1, Infinity),
  agg('quantileExactWeighted', 2),
  agg('countIf', 1),
  agg('sumIf', 2),
  agg('avgIf', 2),
  agg('minIf', 2),
  agg('maxIf', 2),
  agg('uniqExactIf', 2),
  // dates and times
  f('now', 0),
  f('today', 0),
  f('toDateTime', 1, 2),
  f('toDate', 1),
  f('toStartOfInterval', 2, 2, { rewrite: true }),
  f('toStartOfMinute', 1, 2),
  f('toStartOfFiveMinute', 1, 2),
  f('toStartOfTenMinutes', 1, 1, { rewrite: true }),
  f('toStartOfFifteenMinute', 1, 1, { rewrite: true }),
  f('toStartOfHour', 1, 2),
  f('toStartOfDay', 1, 2),
  f('toStartOfWeek', 1, 2, { rewrite: true }),
  f('toMonday', 1, 2),
  f('toStartOfMonth', 1, 2),
  f('toStartOfQuarter', 1, 2),
  f('toStartOfYear', 1, 2),
  f('toYear', 1, 2),
  f('toQuarter', 1, 2),
  f('toMonth', 1, 2),
  f('toDayOfMonth', 1, 2),
  f('toDayOfWeek', 1, 2),
  f('toHour', 1, 2),
  f('toMinute', 1, 2),
  f('toSecond', 1, 2),
  f('toYYYYMM', 1, 2),
  f('toYYYYMMDD', 1, 2),
  f('toUnixTimestamp', 1, 2),
  f('formatDateTime', 2, 3),
  f('dateDiff', 3, 4),
  // strings
  f('lower', 1),
  f('upper', 1),
  f('lowerUTF8', 1),
  f('upperUTF8', 1),
  f('length', 1),
  f('lengthUTF8', 1),
  f('empty', 1),
  f('notEmpty', 1),
  f('concat', 2, Infinity),
  f('substring', 2, 3),
  f('substringUTF8', 2, 3),
  f('startsWith', 2),
  f('endsWith', 2),
  f('position', 2),
  f('replaceAll', 3),
  f('replaceOne', 3),
  f('toString', 1),
  // numbers and conditionals
  f('abs', 1),
  f('round', 1, 2),
  f('floor', 1, 2),
  f('ceil', 1, 2),
  f('intDiv', 2),
  f('sqrt', 1),
  f('exp', 1),
  f('log', 1),
  f('pow', 2),
  f('greatest', 2),
  f('least', 2),
  f('if', 3),
  f('multiIf', 3, Infinity),
  f('coalesce', 1, Infinity),
  f('ifNull', 2),
  f('isNull', 1),
  f('isNotNull', 1),
  f('toFloat64', 1),
  f('toInt64', 1),
  f('toUInt64', 1),
  f('toUInt32', 1),
];

/** By lower-cased name: `COUNT(*)` and `count(*)` are the same call, emitted as `count()`. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(
  SPECS.map((spec) => [spec.name.toLowerCase(), Object.freeze(spec)]),
);

/** Names the rewriter may emit, for the check against a server's `system.functions` (combinators excluded). */
export const EMITTED_FUNCTION_NAMES: readonly string[] = Object.freeze([
  ...SPECS.filter((s) => !s.rewrite && !(s.aggregate && /If$/.test(s.name))).map((s) => s.name),
  // used by the expansions of toStartOfInterval & co.
  'addMonths',
  'addYears',
  'toRelativeDayNum',
]);
