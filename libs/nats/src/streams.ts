import { nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { NatsNames } from './names';

export interface StreamOptions {
  /** How long JetStream remembers a Nats-Msg-Id to drop a re-published request. */
  duplicateWindowMs: number;
  /** Size cap of the events stream; when full, publishes fail (the gateway answers 503). -1 = unlimited. */
  eventsMaxBytes: number;
  /** Kept this long even after the writer acked, so an operator can re-read recent traffic. */
  eventsMaxAgeMs: number;
  replicas: number;
}

export const defaultStreamOptions: StreamOptions = {
  duplicateWindowMs: 10 * 60_000,
  eventsMaxBytes: -1,
  eventsMaxAgeMs: 7 * 24 * 3600_000,
  replicas: 1,
};

/** Creates or updates Tally's streams so their settings always match this code. Safe to call concurrently. */
export async function ensureStreams(
  nc: NatsConnection,
  names: NatsNames,
  options: Partial<StreamOptions> = {},
): Promise<void> {
  const o = { ...defaultStreamOptions, ...options };
  const jsm = await jetstreamManager(nc);
  const events: Partial<StreamConfig> & { name: string } = {
    name: names.eventsStream,
    subjects: [names.eventsSubjectAll],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_bytes: o.eventsMaxBytes,
    max_age: nanos(o.eventsMaxAgeMs),
    duplicate_window: nanos(o.duplicateWindowMs),
    num_replicas: o.replicas,
  };
  const deadLetters: Partial<StreamConfig> & { name: string } = {
    name: names.deadLetterStream,
    subjects: [names.deadLetterSubjectAll],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    duplicate_window: nanos(o.duplicateWindowMs),
    num_replicas: o.replicas,
  };
  // Data points get their own stream (and writer) so that analytics traffic never queues behind, or
  // in front of, billing events; same limits as events.
  const points: Partial<StreamConfig> & { name: string } = {
    ...events,
    name: names.pointsStream,
    subjects: [names.pointsSubjectAll],
  };
  for (const config of [events, deadLetters, points]) {
    try {
      await jsm.streams.add(config);
    } catch (e) {
      // Already there (possibly with older settings, or created by a concurrent process): converge.
      if (!(e instanceof JetStreamApiError)) throw e;
      await jsm.streams.update(config.name, config);
    }
  }
}

export async function deleteStreams(nc: NatsConnection, names: NatsNames): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const name of [names.eventsStream, names.deadLetterStream, names.pointsStream]) {
    await jsm.streams.delete(name).catch(() => undefined);
  }
}
