/**
 * Billing's closed-period markers in NATS KV: written by billing when it closes a customer's period,
 * read by the writer to tell late events (billing's `ClosedPeriodStore` writes them). Shared because
 * both sides must read one format; the writer never imports billing.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { ClosedPeriodState } from '@tally/billing-contracts';
import type { NatsConnection, NatsNames } from '@tally/nats';
import { decodeCustomerId, encodeCustomerId } from './keys';
import { KvWatcher } from './kv-watcher';

/**
 * A customer's period once billing has started closing it. Written (created) BEFORE the usage is read,
 * so the writer's late-event check and the invoice's usage query cannot both miss an event: an event
 * stored before the marker existed is in the usage (read after the marker and after the writer's
 * watermark), one stored later is seen by the writer as late (see `@tally/ingest`'s `LateEventNotifier`).
 */
export interface ClosedPeriod {
  tenant: string;
  customer: string;
  period: string;
  /** Instants the period covers, epoch ms, `[fromMs, toMs)`: what the writer compares event times with. */
  fromMs: number;
  toMs: number;
  /** The id the period's invoice has (deterministic, known before it is written). */
  invoiceId: string;
  /** The workflow that closes it: only that workflow may (re)compute the invoice. */
  owner: string;
  /** One definition with the workflow contracts (`ClosedPeriodState`): the marker and the close result cannot disagree. */
  state: ClosedPeriodState;
  closedAt: string;
  totalMinor?: string;
  currency?: string;
}

/** KV keys are NATS subject tokens: customer ids are base64url-encoded, as in the catalog. */
export const billingKeys = {
  closed: (tenant: string, customer: string, period: string) =>
    `closed.${tenant}.${encodeCustomerId(customer)}.${period}`,
  closedOfTenant: (tenant: string) => `closed.${tenant}.>`,
  replayed: (tenant: string, deadLetterSeq: number) => `replayed.${tenant}.${deadLetterSeq}`,
};

export function parseClosedKey(
  key: string,
): { tenant: string; customer: string; period: string } | undefined {
  const t = key.split('.');
  if (t.length !== 4 || t[0] !== 'closed') return undefined;
  return { tenant: t[1], customer: decodeCustomerId(t[2]), period: t[3] };
}

/** Opens (creating if needed) the billing bucket; several processes may race to create it. */
export async function openBillingBucket(nc: NatsConnection, names: NatsNames): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    return await kvm.create(names.billingBucket, { history: 1 });
  } catch (error) {
    if (error instanceof JetStreamApiError) return kvm.open(names.billingBucket);
    throw error;
  }
}

export async function deleteBillingBucket(nc: NatsConnection, names: NatsNames): Promise<void> {
  try {
    await (await new Kvm(nc).open(names.billingBucket, { bindOnly: true })).destroy();
  } catch {
    // not there
  }
}

interface ClosedRange {
  period: string;
  fromMs: number;
  toMs: number;
}

/**
 * The closed periods of every tenant in memory, kept current by a watch on the billing bucket, for the
 * writer: it checks each stored event against it without a round trip.
 */
export class ClosedPeriodView {
  private readonly ranges = new Map<string, ClosedRange[]>();
  private watcher!: KvWatcher;

  private constructor(private readonly kv: KV) {}

  static async open(
    nc: NatsConnection,
    names: NatsNames,
    onError?: (error: unknown) => void,
  ): Promise<ClosedPeriodView> {
    const kv = await openBillingBucket(nc, names);
    const view = new ClosedPeriodView(kv);
    view.watcher = KvWatcher.start(kv, (entry) => view.apply(entry), {
      onError,
      connectionClosed: () => nc.isClosed(),
    });
    try {
      await view.watcher.ready();
    } catch (error) {
      await view.watcher.stop();
      throw error;
    }
    return view;
  }

  /** The closed period of the customer that contains the instant, if any. */
  closedPeriodAt(tenant: string, customer: string, tsMs: number): string | undefined {
    const list = this.ranges.get(`${tenant}\u0000${customer}`);
    return list?.find((r) => r.fromMs <= tsMs && tsMs < r.toMs)?.period;
  }

  /**
   * Resolves once every marker written before the call is in memory: the stream's last sequence is
   * read first, then the watch is awaited up to it (usually already there). Bounded by `timeoutMs`.
   */
  async catchUp(timeoutMs = 2_000): Promise<boolean> {
    const status = await this.kv.status();
    const target = status.streamInfo.state.last_seq;
    const deadline = Date.now() + timeoutMs;
    while (this.watcher.revision < target) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  async close(): Promise<void> {
    await this.watcher.stop();
  }

  private apply(entry: KvWatchEntry): void {
    const key = parseClosedKey(entry.key);
    if (!key) return;
    const id = `${key.tenant}\u0000${key.customer}`;
    const list = (this.ranges.get(id) ?? []).filter((r) => r.period !== key.period);
    if (entry.operation === 'PUT') {
      const marker = entry.json<ClosedPeriod>();
      list.push({ period: marker.period, fromMs: marker.fromMs, toMs: marker.toMs });
    }
    if (list.length) this.ranges.set(id, list);
    else this.ranges.delete(id);
  }
}
