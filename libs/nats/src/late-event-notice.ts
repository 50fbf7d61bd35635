/**
 * A late-event notice: "`count` events of this customer were stored into its closed billing period".
 * Published by the writer to the late-events stream (acknowledged before it acks the events), consumed
 * by the billing worker, which signals the period's rebill. Counts, not ids: the rebill recomputes the
 * whole period from ClickHouse and compares fingerprints, so it needs to know only that something came.
 */
export interface LateEventNotice {
  tenant: string;
  customer: string;
  /** `YYYY-MM`. */
  period: string;
  /** Late events this notice covers (at least 1). */
  count: number;
  /** One of them, for logs and for people tracing an event to its adjustment. */
  sampleEventId: string;
}

export function encodeLateEventNotice(notice: LateEventNotice): Uint8Array {
  return Buffer.from(JSON.stringify(notice));
}

/** The notice, or a reason it is not one (such a message is logged and acked: it can never become valid). */
export function decodeLateEventNotice(data: Uint8Array): LateEventNotice | { invalid: string } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return { invalid: 'not JSON' };
  }
  const n = value as Partial<LateEventNotice> | null;
  if (!n || typeof n !== 'object') return { invalid: 'not an object' };
  for (const field of ['tenant', 'customer', 'period', 'sampleEventId'] as const) {
    if (typeof n[field] !== 'string' || n[field] === '') return { invalid: `${field} missing` };
  }
  if (!/^\d{4}-\d{2}$/.test(n.period as string)) return { invalid: 'period is not YYYY-MM' };
  if (typeof n.count !== 'number' || !Number.isSafeInteger(n.count) || n.count < 1) return { invalid: 'count is not a positive integer' };
  return n as LateEventNotice;
}
