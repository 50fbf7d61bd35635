import { parseRetryAfter } from './backoff';
import { type FieldIssue, TallyUnavailableError } from './errors';
import type { TransportResponse } from './transport';

export type Outcome =
  | { type: 'accepted'; duplicates: number }
  | { type: 'retry'; error: unknown; retryAfterMs?: number }
  | { type: 'rejected'; status: number; code: string; message: string; details: FieldIssue[] };

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

function errorOf(body: unknown, status: number): { code: string; message: string; details: FieldIssue[] } {
  const e = typeof body === 'object' && body !== null ? (body as ErrorBody).error : undefined;
  const text = typeof body === 'string' && body.length > 0 ? body.slice(0, 200) : `HTTP ${status}`;
  return {
    code: typeof e?.code === 'string' ? e.code : `HTTP_${status}`,
    message: typeof e?.message === 'string' ? e.message : text,
    details: Array.isArray(e?.details) ? (e.details as FieldIssue[]) : [],
  };
}

/**
 * What a gateway answer means for the batch. 2xx: stored. 408, 429 and 5xx: nothing was stored,
 * or we cannot know; re-sending the same batch is safe because the gateway deduplicates on the
 * event ids, so retry. Any other status (401, 403, 413, 415, 422, a redirect...): the same bytes
 * would be refused again, so reject for good.
 */
export function classify(response: TransportResponse, count: number, nowMs: number): Outcome {
  const { status, body } = response;
  if (status >= 200 && status < 300) {
    const d =
      typeof body === 'object' && body !== null ? (body as { duplicates?: unknown }).duplicates : undefined;
    // A body without counts (a proxy in between, an older gateway) still means "stored".
    const duplicates = typeof d === 'number' && Number.isInteger(d) && d >= 0 ? Math.min(d, count) : 0;
    return { type: 'accepted', duplicates };
  }
  const { code, message, details } = errorOf(body, status);
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.retryAfter, nowMs);
    return {
      type: 'retry',
      error: new TallyUnavailableError(status, code, message, retryAfterMs),
      retryAfterMs,
    };
  }
  return { type: 'rejected', status, code, message, details };
}
