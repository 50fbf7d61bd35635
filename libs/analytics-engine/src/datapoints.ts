import { type FieldIssue, ValidationFailedError } from '@tally/errors';
import { DATAPOINT_DEFAULTS, DATAPOINT_LIMITS as L, DataPointIssueCode as C } from './codes';

/**
 * What a Worker passes to Cloudflare's `writeDataPoint`, plus the idempotency `id` and the `timestamp`
 * (epoch milliseconds) that Tally's SDK adds. `blobs` may also be a plain object: its values are taken
 * in insertion order (`{ customer_id, request_endpoint }` becomes blob1, blob2), which is what
 * Cloudflare's own usage-billing example writes.
 */
export interface DataPointInput {
  indexes?: string[];
  blobs?: Array<string | null> | Record<string, string | null>;
  doubles?: number[];
  id?: string;
  timestamp?: number;
}

type Nth = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15 | 16 | 17 | 18 | 19 | 20;
export type BlobColumn = `blob${Nth}`;
export type DoubleColumn = `double${Nth}`;

/**
 * One validated data point in the shape of the `datapoints` table: missing blobs are '', missing
 * doubles 0, as in Cloudflare. `sampleInterval` is how many points this row stands for (1 unless the
 * `EquitableSampler` dropped some of its neighbours).
 */
export type DataPointRow = {
  id: string;
  /** Epoch milliseconds (stored with second precision). */
  timestamp: number;
  index1: string;
  sampleInterval: number;
} & { [K in BlobColumn]: string } & { [K in DoubleColumn]: number };

export const BLOB_COLUMNS: readonly BlobColumn[] = Object.freeze(
  Array.from({ length: L.maxBlobs }, (_, i) => `blob${i + 1}` as BlobColumn),
);
export const DOUBLE_COLUMNS: readonly DoubleColumn[] = Object.freeze(
  Array.from({ length: L.maxDoubles }, (_, i) => `double${i + 1}` as DoubleColumn),
);

export interface NormalizeDataPointsOptions {
  /** The dataset named by the request (`POST /v1/datasets/:name/points`); validated too. */
  dataset: string;
  /** Receipt time, epoch ms: the timestamp of points sent without one, and the reference for limits. */
  nowMs: number;
  /** Id of a point sent without one (the gateway passes `() => uuidV7(nowMs)`). */
  generateId: () => string;
  maxFutureMs?: number;
  latenessLimitMs?: number;
  /** At most this many points per request (default and maximum 250). */
  maxBatch?: number;
}

const DATASET_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;

/** `^[a-zA-Z_][a-zA-Z0-9_]{0,63}$`: a dataset name is also the table name of the SQL API. */
export function isValidDatasetName(name: unknown): name is string {
  return typeof name === 'string' && DATASET_NAME.test(name);
}

function datasetIssue(name: unknown): FieldIssue {
  return {
    field: 'dataset',
    code: C.DATASET_INVALID,
    message: `Dataset name ${typeof name === 'string' ? JSON.stringify(name.length > 70 ? name.slice(0, 64) + '…' : name) : describeValue(name)} must match ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$`,
  };
}

/** Throws `ValidationFailedError` (DATASET_INVALID) unless `name` is a valid dataset name. */
export function assertDatasetName(name: unknown): asserts name is string {
  if (!isValidDatasetName(name)) {
    const issue = datasetIssue(name);
    throw new ValidationFailedError([issue], issue.message);
  }
}

// ---------------------------------------------------------------------------------------------

/** DateTime holds seconds 1970..2105 on every server generation (see quote.ts in @tally/clickhouse). */
const MAX_TIMESTAMP_MS = Date.UTC(2106, 0, 1) - 1;

const KNOWN_FIELDS = new Set(['indexes', 'blobs', 'doubles', 'id', 'timestamp']);

/** Keys such as "0" or "12" are enumerated before all others in JavaScript, whatever order they were written in. */
const ARRAY_INDEX_KEY = /^(0|[1-9]\d*)$/;

class Issues {
  readonly list: FieldIssue[] = [];
  index = 0;
  add(field: string, code: string, message: string): void {
    this.list.push({ index: this.index, field, code, message });
  }
}

type Obj = Record<string, unknown>;

function isPlainObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * UTF-8 size of a string, and whether it holds something ClickHouse and the SQL quoting cannot keep
 * exactly: a NUL (refused for events too) or an unpaired UTF-16 surrogate (which UTF-8 encoding
 * would silently replace with U+FFFD).
 */
function utf8Size(s: string): { bytes: number; invalid: boolean } {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return { bytes, invalid: true };
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return { bytes, invalid: true };
      bytes += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return { bytes, invalid: true };
    else bytes += 3;
  }
  return { bytes, invalid: false };
}

const INVALID_CHARACTER_MESSAGE = 'contains a NUL character or an unpaired UTF-16 surrogate';

function isValidId(s: string): boolean {
  if (s.length === 0 || s.length > L.idMaxLength) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

interface Cfg {
  nowMs: number;
  maxFutureMs: number;
  latenessLimitMs: number;
  generateId: () => string;
}

function readIndex(v: unknown, issues: Issues): string {
  if (v === undefined || v === null) return '';
  if (!Array.isArray(v)) {
    issues.add('indexes', C.INDEXES_INVALID, `indexes must be an array, got ${describeValue(v)}`);
    return '';
  }
  if (v.length > L.maxIndexes) {
    issues.add(
      'indexes',
      C.TOO_MANY_INDEXES,
      `indexes has ${v.length} entries; at most ${L.maxIndexes} is allowed`,
    );
    return '';
  }
  if (v.length === 0 || v[0] === null || v[0] === undefined) return '';
  const value: unknown = v[0];
  if (typeof value !== 'string') {
    issues.add('indexes[0]', C.INDEX_INVALID, `indexes[0] must be a string, got ${describeValue(value)}`);
    return '';
  }
  const { bytes, invalid } = utf8Size(value);
  if (invalid) {
    issues.add('indexes[0]', C.INVALID_CHARACTER, `indexes[0] ${INVALID_CHARACTER_MESSAGE}`);
    return '';
  }
  if (bytes > L.indexMaxBytes) {
    issues.add(
      'indexes[0]',
      C.INDEX_TOO_LONG,
      `indexes[0] is ${bytes} bytes of UTF-8; at most ${L.indexMaxBytes} are allowed`,
    );
    return '';
  }
  return value;
}

function readBlobs(v: unknown, row: Obj, issues: Issues): void {
  if (v === undefined || v === null) return;
  let entries: Array<[field: string, value: unknown]>;
  if (Array.isArray(v)) {
    entries = Array.from(v, (value: unknown, i) => [`blobs[${i}]`, value]);
  } else if (isPlainObject(v)) {
    entries = [];
    for (const key of Object.keys(v)) {
      if (ARRAY_INDEX_KEY.test(key)) {
        issues.add(
          `blobs.${key}`,
          C.BLOBS_INVALID,
          `blobs given as an object take their order from the keys, and a numeric key such as '${key}' ` +
            'is always enumerated first: send blobs as an array',
        );
        return;
      }
      entries.push([`blobs.${key.length > 140 ? key.slice(0, 128) + '…' : key}`, v[key]]);
    }
  } else {
    issues.add(
      'blobs',
      C.BLOBS_INVALID,
      `blobs must be an array (or an object whose values are taken in order), got ${describeValue(v)}`,
    );
    return;
  }
  if (entries.length > L.maxBlobs) {
    issues.add(
      'blobs',
      C.TOO_MANY_BLOBS,
      `blobs has ${entries.length} entries; at most ${L.maxBlobs} are allowed`,
    );
    return;
  }
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    const [field, value] = entries[i];
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string') {
      issues.add(field, C.BLOB_INVALID, `${field} must be a string or null, got ${describeValue(value)}`);
      continue;
    }
    const { bytes, invalid } = utf8Size(value);
    if (invalid) {
      issues.add(field, C.INVALID_CHARACTER, `${field} ${INVALID_CHARACTER_MESSAGE}`);
      continue;
    }
    total += bytes;
    row[BLOB_COLUMNS[i]] = value;
  }
  if (total > L.blobsMaxBytes) {
    issues.add(
      'blobs',
      C.BLOBS_TOO_LARGE,
      `blobs total ${total} bytes of UTF-8; at most ${L.blobsMaxBytes} are allowed per data point`,
    );
  }
}

function readDoubles(v: unknown, row: Obj, issues: Issues): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) {
    issues.add('doubles', C.DOUBLES_INVALID, `doubles must be an array of numbers, got ${describeValue(v)}`);
    return;
  }
  if (v.length > L.maxDoubles) {
    issues.add(
      'doubles',
      C.TOO_MANY_DOUBLES,
      `doubles has ${v.length} entries; at most ${L.maxDoubles} are allowed`,
    );
    return;
  }
  for (let i = 0; i < v.length; i++) {
    const value: unknown = v[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      issues.add(
        `doubles[${i}]`,
        C.DOUBLE_INVALID,
        `doubles[${i}] must be a finite number, got ${typeof value === 'number' ? String(value) : describeValue(value)}`,
      );
      continue;
    }
    row[DOUBLE_COLUMNS[i]] = value === 0 ? 0 : value; // -0 -> 0
  }
}

function readTimestamp(v: unknown, cfg: Cfg, issues: Issues): number {
  if (v === undefined || v === null) return cfg.nowMs;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_TIMESTAMP_MS) {
    issues.add(
      'timestamp',
      C.TIMESTAMP_INVALID,
      `timestamp must be epoch milliseconds between 0 and ${MAX_TIMESTAMP_MS}, got ${typeof v === 'number' ? String(v) : describeValue(v)}`,
    );
    return 0;
  }
  const ms = Math.floor(v);
  if (ms > cfg.nowMs + cfg.maxFutureMs) {
    issues.add(
      'timestamp',
      C.TIMESTAMP_IN_FUTURE,
      `timestamp is ${ms - cfg.nowMs} ms ahead of the server clock; at most ${cfg.maxFutureMs} ms are allowed`,
    );
  } else if (ms < cfg.nowMs - cfg.latenessLimitMs) {
    issues.add(
      'timestamp',
      C.TIMESTAMP_TOO_OLD,
      `timestamp is older than the ${cfg.latenessLimitMs} ms that late data points are accepted for`,
    );
  }
  return ms;
}

function readId(v: unknown, cfg: Cfg, issues: Issues): string {
  if (v === undefined || v === null) return cfg.generateId();
  if (typeof v !== 'string' || !isValidId(v)) {
    issues.add(
      'id',
      C.ID_INVALID,
      `id must be 1-${L.idMaxLength} printable ASCII characters without spaces, got ${typeof v === 'string' ? `${v.length} characters` : describeValue(v)}`,
    );
    return '';
  }
  return v;
}

function emptyRow(): Obj {
  const row: Obj = { id: '', timestamp: 0, index1: '', sampleInterval: 1 };
  for (const c of BLOB_COLUMNS) row[c] = '';
  for (const c of DOUBLE_COLUMNS) row[c] = 0;
  return row;
}

function normalizeOne(item: unknown, cfg: Cfg, issues: Issues): DataPointRow | undefined {
  if (!isPlainObject(item)) {
    issues.add('', C.POINT_INVALID, `A data point must be an object, got ${describeValue(item)}`);
    return undefined;
  }
  const before = issues.list.length;
  for (const key of Object.keys(item)) {
    if (!KNOWN_FIELDS.has(key)) {
      issues.add(
        key.length > 140 ? key.slice(0, 128) + '…' : key,
        C.FIELD_UNKNOWN,
        `Unknown field '${key.length > 140 ? key.slice(0, 128) + '…' : key}': a data point has indexes, blobs, doubles, id and timestamp`,
      );
    }
  }
  const row = emptyRow();
  row.index1 = readIndex(item.indexes, issues);
  readBlobs(item.blobs, row, issues);
  readDoubles(item.doubles, row, issues);
  row.timestamp = readTimestamp(item.timestamp, cfg, issues);
  row.id = readId(item.id, cfg, issues);
  return issues.list.length === before ? (row as DataPointRow) : undefined;
}

function bodyIssue(field: string, code: string, message: string): ValidationFailedError {
  return new ValidationFailedError([{ field, code, message }], message);
}

/**
 * Validates and normalises the body of `POST /v1/datasets/:name/points` — an array of data points or
 * `{ "points": [...] }` — into table rows. Like an event batch, the request is atomic: every issue of
 * every point (and of the dataset name) is collected and thrown together as one
 * `ValidationFailedError` (HTTP 422) whose details carry `{ index, field, code, message }`.
 */
export function normalizeDataPoints(body: unknown, options: NormalizeDataPointsOptions): DataPointRow[] {
  let items: unknown[];
  if (Array.isArray(body)) {
    items = body;
  } else if (isPlainObject(body) && body.points !== undefined) {
    if (!Array.isArray(body.points))
      throw bodyIssue('points', C.BODY_INVALID, '"points" must be an array of data points');
    items = body.points;
  } else {
    throw bodyIssue('', C.BODY_INVALID, 'The body must be an array of data points or {"points": [...]}');
  }
  const maxBatch = Math.min(options.maxBatch ?? L.maxPointsPerRequest, L.maxPointsPerRequest);
  if (items.length === 0) throw bodyIssue('points', C.BATCH_EMPTY, 'The request contains no data points');
  if (items.length > maxBatch) {
    throw bodyIssue(
      'points',
      C.BATCH_TOO_LARGE,
      `The request has ${items.length} data points; at most ${maxBatch} are accepted per request`,
    );
  }
  if (!Number.isFinite(options.nowMs)) {
    throw new TypeError('normalizeDataPoints: options.nowMs must be a finite number');
  }
  const cfg: Cfg = {
    nowMs: Math.floor(options.nowMs),
    maxFutureMs: options.maxFutureMs ?? DATAPOINT_DEFAULTS.maxFutureMs,
    latenessLimitMs: options.latenessLimitMs ?? DATAPOINT_DEFAULTS.latenessLimitMs,
    generateId: options.generateId,
  };
  const issues = new Issues();
  const rows: DataPointRow[] = [];
  for (let i = 0; i < items.length; i++) {
    issues.index = i;
    const row = normalizeOne(items[i], cfg, issues);
    if (row) rows.push(row);
  }
  const all = isValidDatasetName(options.dataset)
    ? issues.list
    : [datasetIssue(options.dataset), ...issues.list];
  if (all.length) throw new ValidationFailedError(all);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Storage

/** The columns of the `datapoints` table (migration 0002) that an insert names, in table order. */
export const DATAPOINT_COLUMNS: readonly string[] = Object.freeze([
  'tenant',
  'dataset',
  'timestamp',
  'point_id',
  'index1',
  ...BLOB_COLUMNS,
  ...DOUBLE_COLUMNS,
  '_sample_interval',
]);

export type DataPointStorageRow = {
  tenant: string;
  dataset: string;
  /** `YYYY-MM-DD hh:mm:ss` in UTC, what a `DateTime('UTC')` column reads from JSONEachRow on every server. */
  timestamp: string;
  point_id: string;
  index1: string;
  _sample_interval: number;
} & { [K in BlobColumn]: string } & { [K in DoubleColumn]: number };

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `YYYY-MM-DD hh:mm:ss` (UTC) of epoch milliseconds; the milliseconds are dropped (floor). */
export function formatDateTimeUtc(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return (
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`
  );
}

/**
 * The JSONEachRow objects to insert into `datapoints` (columns `DATAPOINT_COLUMNS`) for one tenant's
 * dataset. The writer inserts them; a retried batch repeats the same `point_id`s, which the
 * ReplacingMergeTree collapses when parts merge.
 */
export function toStorageRows(
  tenant: string,
  dataset: string,
  rows: readonly DataPointRow[],
): DataPointStorageRow[] {
  assertDatasetName(dataset);
  return rows.map((row) => {
    if (!Number.isInteger(row.sampleInterval) || row.sampleInterval < 1 || row.sampleInterval > 0xffffffff) {
      throw new RangeError(`sampleInterval ${row.sampleInterval} of point ${row.id} is not a UInt32 >= 1`);
    }
    const out: Obj = {
      tenant,
      dataset,
      timestamp: formatDateTimeUtc(row.timestamp),
      point_id: row.id,
      index1: row.index1,
    };
    for (const c of BLOB_COLUMNS) out[c] = row[c];
    for (const c of DOUBLE_COLUMNS) out[c] = row[c];
    out._sample_interval = row.sampleInterval;
    return out as DataPointStorageRow;
  });
}
