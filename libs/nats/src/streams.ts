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
  /**
   * Size cap of the events stream (and of the data points' stream). The streams are work queues: a
   * message is deleted once the writer acked it, so this caps the backlog (what is accepted and not
   * yet stored). When it is reached, publishes are refused (discard new) and the gateway answers 503
   * `STREAM_FULL`: back-pressure long before the disk fills, and no accepted event is ever deleted.
   */
  eventsMaxBytes: number;
  /** Size cap of the dead-letter stream; when full the writer holds its batch (see docs/ingestion.md). */
  deadLettersMaxBytes: number;
  /** Size cap of the late-event notices' stream; when full the writer holds its batch. */
  lateEventsMaxBytes: number;
  replicas: number;
}

/**
 * JetStream reserves a stream's `max_bytes` against the server's storage when the stream is created,
 * so these defaults are what one Tally deployment reserves (about 2.3 GiB); raise them with
 * `TALLY_EVENTS_MAX_BYTES` for the outage you want to ride out.
 */
export const defaultStreamOptions: StreamOptions = {
  duplicateWindowMs: 10 * 60_000,
  eventsMaxBytes: 1024 ** 3,
  deadLettersMaxBytes: 256 * 1024 ** 2,
  lateEventsMaxBytes: 64 * 1024 ** 2,
  replicas: 1,
};

/** A setting of an existing stream that differs from what this code would create. */
export interface StreamDrift {
  stream: string;
  setting: string;
  expected: unknown;
  actual: unknown;
}

/** The settings Tally creates its streams with. */
export function streamConfigs(names: NatsNames, options: Partial<StreamOptions> = {}): Array<Partial<StreamConfig> & { name: string }> {
  const o = { ...defaultStreamOptions, ...options };
  const common = {
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    duplicate_window: nanos(o.duplicateWindowMs),
    num_replicas: o.replicas,
    // No age limit anywhere: nothing accepted may expire before it is consumed.
    max_age: 0,
  };
  return [
    {
      ...common,
      name: names.eventsStream,
      subjects: [names.eventsSubjectAll],
      retention: RetentionPolicy.Workqueue,
      max_bytes: o.eventsMaxBytes,
    },
    // Data points get their own stream (and writer) so that analytics traffic never queues behind, or
    // in front of, billing events; same policy as events.
    {
      ...common,
      name: names.pointsStream,
      subjects: [names.pointsSubjectAll],
      retention: RetentionPolicy.Workqueue,
      max_bytes: o.eventsMaxBytes,
    },
    // Dead letters are kept until an operator removes them (replay never deletes them): limits
    // retention, bounded by bytes, discard new.
    {
      ...common,
      name: names.deadLetterStream,
      subjects: [names.deadLetterSubjectAll],
      retention: RetentionPolicy.Limits,
      max_bytes: o.deadLettersMaxBytes,
    },
    {
      ...common,
      name: names.lateEventsStream,
      subjects: [names.lateEventsSubjectAll],
      retention: RetentionPolicy.Workqueue,
      max_bytes: o.lateEventsMaxBytes,
    },
  ];
}

const CHECKED: Array<keyof StreamConfig> = ['subjects', 'retention', 'discard', 'max_bytes', 'max_age', 'storage', 'duplicate_window', 'num_replicas'];

/**
 * Creates the streams that are missing. An existing stream is left as it is, whatever its settings
 * (an operator may have tuned it, and some settings, like the retention, cannot be changed in place):
 * the settings that differ from what this code would create are returned, for the caller to log and
 * export (`tally_stream_config_drift`). Safe to call concurrently from several processes.
 */
export async function ensureStreams(
  nc: NatsConnection,
  names: NatsNames,
  options: Partial<StreamOptions> = {},
): Promise<StreamDrift[]> {
  const jsm = await jetstreamManager(nc);
  const drift: StreamDrift[] = [];
  for (const wanted of streamConfigs(names, options)) {
    let actual: StreamConfig;
    try {
      actual = (await jsm.streams.info(wanted.name)).config;
    } catch (e) {
      if (!(e instanceof JetStreamApiError)) throw e;
      try {
        await jsm.streams.add(wanted);
        continue;
      } catch (addError) {
        // Created meanwhile by a concurrent process: compare with what it created.
        if (!(addError instanceof JetStreamApiError)) throw addError;
        actual = (await jsm.streams.info(wanted.name)).config;
      }
    }
    for (const setting of CHECKED) {
      const expected = wanted[setting];
      if (expected !== undefined && JSON.stringify(expected) !== JSON.stringify(actual[setting]))
        drift.push({ stream: wanted.name, setting, expected, actual: actual[setting] });
    }
  }
  return drift;
}

export async function deleteStreams(nc: NatsConnection, names: NatsNames): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const name of [names.eventsStream, names.deadLetterStream, names.pointsStream, names.lateEventsStream]) {
    await jsm.streams.delete(name).catch(() => undefined);
  }
}
