/**
 * Data points for the Analytics Engine part of the suite: the seeds' dataset
 * (`usage_indexed_by_customer_id`, index1 = customer, blob1 = path) in March 2023, the month the
 * seeds' billing queries read, including the customers they name ('substitute_customer_id_here', 'x').
 */
import { normalizeDataPoints, toStorageRows, type DataPointStorageRow } from '@tally/analytics-engine';

export const DATASET = 'usage_indexed_by_customer_id';
export const POINTS_TENANT = 'acme';
const CUSTOMERS = ['substitute_customer_id_here', 'x', 'cust_b'];
const PATHS = ['/api/a', '/api/b', '/checkout'];

/** The storage rows of the points writer, as normalised by the gateway's own code. */
export function fixturePoints(): DataPointStorageRow[] {
  const points = [];
  let n = 0;
  // Every 97 minutes from late February to early April 2023 (month, week and year edges included).
  for (let t = Date.parse('2023-02-26T21:13:00Z'); t < Date.parse('2023-04-02T03:00:00Z'); t += 97 * 60_000) {
    n++;
    points.push({
      id: `p${n}`,
      indexes: [CUSTOMERS[n % CUSTOMERS.length]],
      blobs: [PATHS[(n * 7) % PATHS.length], n % 5 === 0 ? '' : `b${n % 4}`],
      doubles: [n % 11, ((n * 37) % 1000) / 8],
      timestamp: t + (n % 1000),
    });
  }
  const out: DataPointStorageRow[] = [];
  // normalizeDataPoints takes at most 250 points per request, as the gateway does.
  for (let i = 0; i < points.length; i += 200) {
    const rows = normalizeDataPoints(points.slice(i, i + 200), {
      dataset: DATASET,
      nowMs: Date.parse('2023-04-02T04:00:00Z'),
      generateId: () => 'unused',
      latenessLimitMs: 400 * 86_400_000,
    });
    out.push(...toStorageRows(POINTS_TENANT, DATASET, rows));
  }
  return out;
}

/**
 * Functions whose SQL differs per server generation (ClickHouse 18.16 lacks them; the rewrite expands
 * them for `target: 'compatible'` and emits them natively for `target: 'modern'`), as a user writes
 * them in the SQL API: every unit and both the native shortcut and the general form of each.
 */
export const GENERATION_FORMS = [
  "toStartOfInterval(timestamp, INTERVAL '1' SECOND)",
  'toStartOfInterval(timestamp, INTERVAL 10 SECOND)',
  'toStartOfInterval(timestamp, INTERVAL 1 MINUTE)',
  'toStartOfInterval(timestamp, INTERVAL 5 MINUTE)',
  'toStartOfInterval(timestamp, INTERVAL 15 MINUTE)',
  'toStartOfInterval(timestamp, INTERVAL 1 HOUR)',
  'toStartOfInterval(timestamp, INTERVAL 6 HOUR)',
  "toStartOfInterval(timestamp, INTERVAL '1' DAY)",
  'toStartOfInterval(timestamp, INTERVAL 7 DAY)',
  'toStartOfInterval(timestamp, INTERVAL 1 WEEK)',
  'toStartOfInterval(timestamp, INTERVAL 2 WEEK)',
  'toStartOfInterval(timestamp, INTERVAL 1 MONTH)',
  'toStartOfInterval(timestamp, INTERVAL 3 MONTH)',
  'toStartOfInterval(timestamp, INTERVAL 1 QUARTER)',
  'toStartOfInterval(timestamp, INTERVAL 2 QUARTER)',
  'toStartOfInterval(timestamp, INTERVAL 1 YEAR)',
  'toStartOfInterval(timestamp, INTERVAL 10 YEAR)',
  'toStartOfFifteenMinute(timestamp)',
  'toStartOfTenMinutes(timestamp)',
  'toStartOfWeek(timestamp)',
  'toStartOfWeek(timestamp, 1)',
  'toStartOfWeek(timestamp, 2)',
  'toStartOfWeek(timestamp, 3)',
] as const;
