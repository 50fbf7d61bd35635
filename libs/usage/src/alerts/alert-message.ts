import { createHash } from 'node:crypto';
import type { AlertRule, AlertThreshold } from '@tally/catalog';
import { keySegment, type AlertEnvelope } from '@tally/alerts';
import { toDecimalText } from '@tally/metering';
import { multiplyDecimals, normalizeDecimal } from '@tally/pricing';

/** What an alert says, on NATS (`<prefix>.alerts.<tenant>`) and in the webhook body. */
export interface AlertMessage extends AlertEnvelope {
  /** Stable for one rule, customer, period and threshold: receivers deduplicate on it. */
  id: string;
  type: 'usage.threshold_crossed';
  tenant: string;
  rule: string;
  meter: string;
  profile: string | null;
  /** `meter` or `meter:profile`. */
  series: string;
  customer: string;
  threshold: AlertThreshold;
  /** The usage at which the rule fires, exact decimal text. */
  thresholdValue: string;
  /** The usage seen when it fired. */
  usage: string;
  period: { from: string; to: string; timezone: string };
  firedAt: string;
}

/** The usage at which a rule fires: its value, or `allowance × percent / 100`, exactly. */
export function thresholdValue(threshold: AlertThreshold): string {
  if (threshold.kind === 'absolute') return normalizeDecimal(threshold.value);
  const percent = toDecimalText(threshold.percent) ?? '0';
  return normalizeDecimal(multiplyDecimals(multiplyDecimals(threshold.allowance, percent), '0.01'));
}

/**
 * The KV key of one firing: rule, customer (base64url: ids may hold any character), period start and a
 * hash of the threshold, so that changing a rule's threshold makes it fire again in the same period.
 */
export function alertKey(rule: AlertRule, customer: string, periodFrom: Date): string {
  const threshold = createHash('sha256').update(JSON.stringify(rule.threshold)).digest('hex').slice(0, 16);
  return `${rule.tenant}.${rule.id}.${keySegment(customer)}.${Math.floor(periodFrom.getTime() / 1000)}.${threshold}`;
}
