import { TallyError } from '@tally/errors';

export type ClickHouseErrorCode = 'CLICKHOUSE_UNAVAILABLE' | 'CLICKHOUSE_QUERY_FAILED';

export interface ClickHouseErrorOptions {
  cause?: unknown;
  /** ClickHouse's numeric error code (`Code: 62` = syntax error), when the server answered. */
  serverCode?: number;
  /** The server's or the socket's own message; logged, never sent to API clients. */
  serverMessage?: string;
  queryId?: string;
  /** What was being done, e.g. `insert events` or `migration 0001_events`; for logs. */
  operation?: string;
}

/**
 * Every failure talking to ClickHouse, raised by the wrapper in `client.ts`.
 * `CLICKHOUSE_UNAVAILABLE` (HTTP 503) when the server could not be reached or is overloaded and a retry
 * may succeed; `CLICKHOUSE_QUERY_FAILED` (HTTP 500) for everything else. `transient` says whether a
 * retry of the same request can succeed (see `isTransient`). The message is generic on purpose: it can
 * reach API clients through the exception filter, while the server's text stays in `serverMessage`.
 */
export class ClickHouseError extends TallyError {
  readonly transient: boolean;
  readonly serverCode?: number;
  readonly serverMessage?: string;
  readonly queryId?: string;
  readonly operation?: string;

  constructor(
    code: ClickHouseErrorCode,
    message: string,
    transient: boolean,
    options: ClickHouseErrorOptions = {},
  ) {
    super(code, code === 'CLICKHOUSE_UNAVAILABLE' ? 503 : 500, message, {
      cause: options.cause,
      retryAfterSeconds: code === 'CLICKHOUSE_UNAVAILABLE' ? 1 : undefined,
      // A failed query is retried by its caller's loop (an activity): the server may be back, the load lower.
      retryable: true,
    });
    this.transient = transient;
    this.serverCode = options.serverCode;
    this.serverMessage = options.serverMessage;
    this.queryId = options.queryId;
    this.operation = options.operation;
  }
}

export function isClickHouseError(error: unknown): error is ClickHouseError {
  return error instanceof ClickHouseError;
}

/**
 * Server error codes after which the very same request can succeed later: overload, limits that
 * depend on concurrent load, lost replicas/Keeper, network trouble between servers.
 */
const TRANSIENT_SERVER_CODES = new Map<number, string>([
  [159, 'TIMEOUT_EXCEEDED'],
  [202, 'TOO_MANY_SIMULTANEOUS_QUERIES'],
  [203, 'NO_FREE_CONNECTION'],
  [209, 'SOCKET_TIMEOUT'],
  [210, 'NETWORK_ERROR'],
  [241, 'MEMORY_LIMIT_EXCEEDED'],
  [242, 'TABLE_IS_READ_ONLY'], // a replica that lost ZooKeeper/Keeper, until it reconnects
  [252, 'TOO_MANY_PARTS'],
  [285, 'TOO_FEW_LIVE_REPLICAS'],
  [286, 'UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE'],
  [319, 'UNKNOWN_STATUS_OF_INSERT'],
  [999, 'KEEPER_EXCEPTION'],
]);

const TRANSIENT_MESSAGES =
  /Too many parts|Memory limit .*exceeded|Timeout exceeded|Too many simultaneous queries/i;

/** Node socket errors that mean the server was not reached or the connection broke. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

// @clickhouse/client raises these for its request timeout and for a socket closed mid-request.
const NETWORK_MESSAGES = /^Timeout error\.?$|socket hang up|ECONNREFUSED|ECONNRESET|other side closed/i;

// 18.16: "Code: 62, e.displayText() = DB::Exception: ..."; modern: "Code: 62. DB::Exception: ... (SYNTAX_ERROR)".
const SERVER_CODE = /\bCode: (\d+)[.,]/;

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

function messageOf(error: unknown): string {
  if (typeof error === 'string') return error;
  const m = (error as ErrorLike | null)?.message;
  return typeof m === 'string' ? m : String(error);
}

/** The ClickHouse server error code in an error raised by `@clickhouse/client`, if any. */
export function serverCodeOf(error: unknown): number | undefined {
  if (error instanceof ClickHouseError) return error.serverCode;
  const code = (error as ErrorLike | null)?.code;
  // The client's own ClickHouseError (modern servers only) carries the code as a numeric string.
  if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code);
  const match = SERVER_CODE.exec(messageOf(error));
  return match ? Number(match[1]) : undefined;
}

function isNetworkError(error: unknown, depth = 0): boolean {
  if (error === null || error === undefined || depth > 4) return false;
  const code = (error as ErrorLike).code;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
  if (NETWORK_MESSAGES.test(messageOf(error))) return true;
  if (error instanceof AggregateError) return error.errors.some((e) => isNetworkError(e, depth + 1));
  return isNetworkError((error as ErrorLike).cause, depth + 1);
}

/**
 * Whether retrying the same request can succeed: connection refused/reset, timeouts, `Too many parts`,
 * memory limits and other load-dependent server errors are transient; syntax errors, unknown tables,
 * bad data and every other server error are not.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof ClickHouseError) return error.transient;
  const serverCode = serverCodeOf(error);
  if (serverCode !== undefined) return TRANSIENT_SERVER_CODES.has(serverCode);
  if (isNetworkError(error)) return true;
  return TRANSIENT_MESSAGES.test(messageOf(error));
}

/** Wraps anything thrown by `@clickhouse/client` into a `ClickHouseError` (returned as is if it is one). */
export function toClickHouseError(
  error: unknown,
  context: { operation?: string; queryId?: string } = {},
): ClickHouseError {
  if (error instanceof ClickHouseError) return error;
  const serverCode = serverCodeOf(error);
  const serverMessage = messageOf(error).trim();
  const transient = isTransient(error);
  const unreachable = serverCode === undefined && isNetworkError(error);
  const options: ClickHouseErrorOptions = { cause: error, serverCode, serverMessage, ...context };
  if (unreachable || (transient && serverCode !== undefined)) {
    const what = unreachable ? 'ClickHouse is unavailable' : 'ClickHouse is overloaded';
    return new ClickHouseError('CLICKHOUSE_UNAVAILABLE', what, true, options);
  }
  const suffix = serverCode === undefined ? '' : ` (server code ${serverCode})`;
  return new ClickHouseError(
    'CLICKHOUSE_QUERY_FAILED',
    `ClickHouse request failed${suffix}`,
    transient,
    options,
  );
}
