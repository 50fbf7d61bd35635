import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { billingKeys, openBillingBucket, type ClosedPeriod } from '@tally/catalog';
import type { NatsConnection, NatsNames } from '@tally/nats';

/** A KV create or update that lost to another writer (the key exists, or moved on). */
export function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

export type ClaimResult = { claimed: true; marker: ClosedPeriod } | { claimed: false; marker: ClosedPeriod };

/** Closed-period markers in the billing bucket (NATS KV). */
export class ClosedPeriodStore {
  constructor(readonly kv: KV) {}

  static async open(nc: NatsConnection, names: NatsNames): Promise<ClosedPeriodStore> {
    return new ClosedPeriodStore(await openBillingBucket(nc, names));
  }

  async get(tenant: string, customer: string, period: string): Promise<ClosedPeriod | undefined> {
    const entry = await this.kv.get(billingKeys.closed(tenant, customer, period));
    return entry && entry.operation === 'PUT' ? entry.json<ClosedPeriod>() : undefined;
  }

  /**
   * Creates the marker unless one exists. An existing marker of the same owner counts as claimed (the
   * owner is retrying after a crash); one of another owner means someone else closes the period.
   */
  async claim(marker: ClosedPeriod): Promise<ClaimResult> {
    const key = billingKeys.closed(marker.tenant, marker.customer, marker.period);
    try {
      await this.kv.create(key, JSON.stringify(marker));
      return { claimed: true, marker };
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
    }
    const existing = await this.get(marker.tenant, marker.customer, marker.period);
    if (!existing) return this.claim(marker); // deleted meanwhile (an operator reopened it): try again
    return { claimed: existing.owner === marker.owner, marker: existing };
  }

  async markInvoiced(marker: ClosedPeriod): Promise<void> {
    await this.kv.put(
      billingKeys.closed(marker.tenant, marker.customer, marker.period),
      JSON.stringify(marker),
    );
  }

  /**
   * Gives a claim back when its owner could not invoice the period (a billing rule refused it): the
   * next billing run, or the same invoice workflow started again, can claim it once the catalog is fixed.
   * Only the owner's claim, and only while it is still `closing`, is removed.
   */
  async release(tenant: string, customer: string, period: string, owner: string): Promise<boolean> {
    const key = billingKeys.closed(tenant, customer, period);
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return false;
    const marker = entry.json<ClosedPeriod>();
    if (marker.owner !== owner || marker.state !== 'closing') return false;
    try {
      await this.kv.delete(key, { previousSeq: entry.revision });
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw error;
    }
  }

  /** Reopens a period (operators only: the next billing run closes and invoices it again). */
  async remove(tenant: string, customer: string, period: string): Promise<void> {
    await this.kv.delete(billingKeys.closed(tenant, customer, period));
  }
}
