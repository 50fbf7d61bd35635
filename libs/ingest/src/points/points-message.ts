import {
  BLOB_COLUMNS,
  DATAPOINT_LIMITS,
  DOUBLE_COLUMNS,
  isValidDatasetName,
  type DataPointRow,
} from '@tally/analytics-engine';
import { splitEncoded } from '@tally/ingest-protocol';

/**
 * A data point on the stream, compactly: the 20 blob and 20 double columns become arrays without
 * their trailing defaults ('' and 0), so a typical point is a few dozen bytes instead of forty keys.
 */
export interface WirePoint {
  id: string;
  /** Epoch milliseconds. */
  ts: number;
  index1: string;
  blobs: string[];
  doubles: number[];
  /** `_sample_interval`: how many points this row stands for. */
  si: number;
}

/**
 * What the gateway publishes for one request to a dataset: its validated (and, for analytics
 * datasets, sampled) points. One message per request keeps the request atomic on the stream.
 */
export interface PointsBatchMessage {
  v: 1;
  tenant: string;
  dataset: string;
  /** Receipt time at the gateway, epoch ms. */
  receivedAt: number;
  points: WirePoint[];
}

export function toWirePoint(row: DataPointRow): WirePoint {
  let blobs = BLOB_COLUMNS.length;
  while (blobs > 0 && row[BLOB_COLUMNS[blobs - 1]] === '') blobs--;
  let doubles = DOUBLE_COLUMNS.length;
  while (doubles > 0 && row[DOUBLE_COLUMNS[doubles - 1]] === 0) doubles--;
  return {
    id: row.id,
    ts: row.timestamp,
    index1: row.index1,
    blobs: BLOB_COLUMNS.slice(0, blobs).map((c) => row[c]),
    doubles: DOUBLE_COLUMNS.slice(0, doubles).map((c) => row[c]),
    si: row.sampleInterval,
  };
}

export function fromWirePoint(point: WirePoint): DataPointRow {
  const row: Record<string, unknown> = {
    id: point.id,
    timestamp: point.ts,
    index1: point.index1,
    sampleInterval: point.si,
  };
  BLOB_COLUMNS.forEach((c, i) => (row[c] = point.blobs[i] ?? ''));
  DOUBLE_COLUMNS.forEach((c, i) => (row[c] = point.doubles[i] ?? 0));
  return row as DataPointRow;
}

export function encodePointsMessage(message: PointsBatchMessage): Uint8Array {
  return Buffer.from(JSON.stringify(message));
}

export type DecodePointsResult =
  { ok: true; message: PointsBatchMessage } | { ok: false; reason: string; tenant?: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function isWirePoint(p: unknown): p is WirePoint {
  return (
    isObject(p) &&
    typeof p.id === 'string' &&
    p.id !== '' &&
    typeof p.ts === 'number' &&
    Number.isFinite(p.ts) &&
    p.ts >= 0 &&
    typeof p.index1 === 'string' &&
    Array.isArray(p.blobs) &&
    p.blobs.length <= DATAPOINT_LIMITS.maxBlobs &&
    p.blobs.every((b) => typeof b === 'string') &&
    Array.isArray(p.doubles) &&
    p.doubles.length <= DATAPOINT_LIMITS.maxDoubles &&
    p.doubles.every((d) => typeof d === 'number' && Number.isFinite(d)) &&
    Number.isInteger(p.si) &&
    (p.si as number) >= 1 &&
    (p.si as number) <= 0xffffffff
  );
}

/** The writer trusts nothing it reads back: what does not decode is dead-lettered, not retried. */
export function decodePointsMessage(data: Uint8Array): DecodePointsResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  if (
    !isObject(parsed) ||
    parsed.v !== 1 ||
    typeof parsed.tenant !== 'string' ||
    typeof parsed.receivedAt !== 'number' ||
    !Array.isArray(parsed.points)
  ) {
    return {
      ok: false,
      reason: 'payload is not a data points batch (v, tenant, dataset, receivedAt, points)',
    };
  }
  const tenant = parsed.tenant;
  if (!isValidDatasetName(parsed.dataset)) {
    return { ok: false, reason: 'the batch names no valid dataset', tenant };
  }
  if (!parsed.points.every(isWirePoint)) {
    return {
      ok: false,
      reason: 'a point of the batch lacks a valid id, ts, index1, blobs, doubles or si',
      tenant,
    };
  }
  return { ok: true, message: parsed as unknown as PointsBatchMessage };
}

/** Encodes a batch as one message, or several when it exceeds the server's max_payload. */
export function splitPointsToFit(message: PointsBatchMessage, maxPayload: number): Uint8Array[] {
  return splitEncoded(message.points, (points) => ({ ...message, points }), encodePointsMessage, maxPayload);
}
