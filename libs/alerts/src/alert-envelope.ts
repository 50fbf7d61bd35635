import { createHash } from 'node:crypto';

/**
 * What every alert carries, whatever crossed: usage alerts (`usage.threshold_crossed`, from alert
 * rules) and progressive billing's amount thresholds (`billing.threshold_crossed`). Published as JSON
 * on `<prefix>.alerts.<tenant>` and, where the alert has one, sent to a webhook.
 */
export interface AlertEnvelope {
  /** Stable for one crossing (its state key's hash): receivers deduplicate on it. */
  id: string;
  type: string;
  tenant: string;
  customer: string;
  period: { from: string; to: string; timezone: string };
  firedAt: string;
}

/** The alert id of a state key: receivers deduplicate on it, and a takeover re-sends the same one. */
export function alertId(key: string): string {
  return `alr_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** An id as one segment of an alert-state key: ids may hold any character, KV keys may not. */
export function keySegment(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url') || '_';
}
