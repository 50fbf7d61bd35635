import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { AlertMessage } from './alert-message';

/** How long fired-alert records are kept: past any billing period they can belong to. */
const STATE_TTL_MS = 400 * 86_400_000;

export interface AlertStateRecord {
  /** `claimed`: one instance owns the delivery; `delivered` / `failed`: done (webhook outcome). */
  status: 'claimed' | 'delivered' | 'failed';
  claimedAt: string;
  claimedBy: string;
  alert: AlertMessage;
  webhook?: { attempts: number; status?: number; error?: string };
}

/**
 * Which alerts have fired, in a KV bucket shared by every query instance. A record is created with
 * create-if-absent, so of two instances that see the same threshold crossed, exactly one gets to fire.
 */
export class AlertStateStore {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, names: NatsNames): Promise<AlertStateStore> {
    const kvm = new Kvm(nc);
    try {
      return new AlertStateStore(await kvm.create(names.alertStateBucket, { history: 1, ttl: STATE_TTL_MS }));
    } catch (error) {
      if (error instanceof JetStreamApiError) return new AlertStateStore(await kvm.open(names.alertStateBucket));
      throw error;
    }
  }

  /** Creates the record; false when one exists already (someone fired, or is firing, this alert). */
  async claim(key: string, record: AlertStateRecord): Promise<boolean> {
    try {
      await this.kv.create(key, JSON.stringify(record));
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw error;
    }
  }

  async get(key: string): Promise<{ record: AlertStateRecord; revision: number } | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { record: entry.json<AlertStateRecord>(), revision: entry.revision };
  }

  /** Replaces the record if it is still at `revision`; false when someone else changed it first. */
  async replace(key: string, revision: number, record: AlertStateRecord): Promise<boolean> {
    try {
      await this.kv.update(key, JSON.stringify(record), revision);
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw error;
    }
  }

  /** The current revision of a key (after `claim`, to update the record later). */
  async revision(key: string): Promise<number | undefined> {
    return (await this.kv.get(key))?.revision;
  }
}

function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
