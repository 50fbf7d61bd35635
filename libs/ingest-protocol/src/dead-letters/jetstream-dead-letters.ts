import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsNames } from '@tally/nats';
import type { DeadLetter, DeadLetterSink } from './dead-letter';

export class JetStreamDeadLetterSink implements DeadLetterSink {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly names: NatsNames,
  ) {
    this.js = jetstream(nc);
  }

  async publish(letters: DeadLetter[]): Promise<void> {
    await Promise.all(
      letters.map((letter) =>
        this.js.publish(this.names.deadLetterSubject(letter.tenant), JSON.stringify(letter), {
          // A writer that retries a batch after a failed ack publishes the same letters again;
          // the id makes JetStream keep one.
          msgID: `dl:${letter.streamSeq}:${letter.event?.id ?? ''}:${letter.reason}`,
        }),
      ),
    );
  }
}

export interface StoredDeadLetter extends DeadLetter {
  /** Sequence of the letter in the dead-letter stream: the handle for paging and replay. */
  seq: number;
}

export interface ListDeadLettersOptions {
  tenant?: string;
  /** First dead-letter stream sequence to return (for paging). */
  fromSeq?: number;
  limit: number;
}

/** Reads dead letters in stream order without creating durable state (an ordered consumer). */
export async function listDeadLetters(
  nc: NatsConnection,
  names: NatsNames,
  options: ListDeadLettersOptions,
): Promise<{ letters: StoredDeadLetter[]; nextSeq: number | undefined }> {
  const jsm = await jetstreamManager(nc);
  const subject = options.tenant ? names.deadLetterSubject(options.tenant) : names.deadLetterSubjectAll;
  const info = await jsm.streams.info(names.deadLetterStream, { subjects_filter: subject }).catch(() => undefined);
  const pending = info?.state.subjects
    ? Object.values(info.state.subjects).reduce((a, b) => a + b, 0)
    : (info?.state.messages ?? 0);
  if (!info || pending === 0 || (options.fromSeq ?? 1) > info.state.last_seq) return { letters: [], nextSeq: undefined };

  const consumer = await jetstream(nc).consumers.get(names.deadLetterStream, {
    filter_subjects: subject,
    ...(options.fromSeq ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: options.fromSeq } : {}),
  });
  const letters: StoredDeadLetter[] = [];
  const messages = await consumer.fetch({ max_messages: options.limit, expires: 1_000 });
  for await (const m of messages) {
    letters.push({ ...(m.json() as DeadLetter), seq: m.seq });
    if (letters.length >= options.limit || m.info.pending === 0) break;
  }
  const last = letters.at(-1);
  const more = last !== undefined && last.seq < info.state.last_seq && letters.length >= options.limit;
  return { letters, nextSeq: more ? last.seq + 1 : undefined };
}
