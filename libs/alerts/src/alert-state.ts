import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { AlertEnvelope } from './alert-envelope';

/** How long fired-alert records are kept: past any billing period they can belong to. */
const STATE_TTL_MS = 400 * 86_400_000;

export interface AlertStateRecord<M extends AlertEnvelope = AlertEnvelope> {
  /** `claimed`: one instance owns the delivery; `delivered` / `failed`: done (webhook outcome). */
  status: 'claimed' | 'delivered' | 'failed';
  claimedAt: string;
  claimedBy: string;
  alert: M;
  webhook?: { attempts: number; status?: number; error?: string };
}

/**
 * Which alerts have fired, in a KV bucket shared by every instance that evaluates thresholds (query
 * instances for usage rules, billing workers for progressive billing). A record is created with
 * create-if-absent, so of two instances that see the same threshold crossed, exactly one gets to fire.
 * The bucket is opened (and created) when the first alert fires, so a deployment without alert rules
 * never has one.
 */
export class AlertStateStore {
  private kv?: Promise<KV>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
  ) {}

  private bucket(): Promise<KV> {
    this.kv ??= (async () => {
      const kvm = new Kvm(this.nc);
      try {
        return await kvm.create(this.names.alertStateBucket, { history: 1, ttl: STATE_TTL_MS });
      } catch (error) {
        if (error instanceof JetStreamApiError) return kvm.open(this.names.alertStateBucket);
        throw error;
      }
    })().catch((error: unknown) => {
      this.kv = undefined; // try again on the next alert
      throw error;
    });
    return this.kv;
  }

  /** Creates the record; false when one exists already (someone fired, or is firing, this alert). */
  async claim(key: string, record: AlertStateRecord<AlertEnvelope>): Promise<boolean> {
    try {
      await (await this.bucket()).create(key, JSON.stringify(record));
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw error;
    }
  }

  async get<M extends AlertEnvelope>(
    key: string,
  ): Promise<{ record: AlertStateRecord<M>; revision: number } | undefined> {
    const entry = await (await this.bucket()).get(key);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { record: entry.json<AlertStateRecord<M>>(), revision: entry.revision };
  }

  /** Replaces the record if it is still at `revision`; false when someone else changed it first. */
  async replace(key: string, revision: number, record: AlertStateRecord<AlertEnvelope>): Promise<boolean> {
    try {
      await (await this.bucket()).update(key, JSON.stringify(record), revision);
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw error;
    }
  }

  /** The current revision of a key (after `claim`, to update the record later). */
  async revision(key: string): Promise<number | undefined> {
    return (await (await this.bucket()).get(key))?.revision;
  }
}

function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
