import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { randomPrefix, testNatsUrl, testStreamLimits, testNatsAuth } from '@tally/testing';
import { connectNats, type NatsConnection } from './connection';
import { natsNames } from './names';
import { deleteStreams, ensureStreams } from './streams';

describe('JetStream round trip (real NATS)', () => {
  let nc: NatsConnection;
  const names = natsNames(randomPrefix());

  beforeAll(async () => {
    nc = await connectNats(testNatsUrl(), 'jetstream.int-spec', testNatsAuth());
  });
  afterAll(async () => {
    await deleteStreams(nc, names);
    await nc.close();
  });

  it('creates the streams idempotently, publishes with dedup, and consumes what was published', async () => {
    await ensureStreams(nc, names, testStreamLimits);
    await ensureStreams(nc, names, testStreamLimits); // a second start must converge, not fail

    const js = jetstream(nc);
    const subject = names.eventsSubject('acme');
    const first = await js.publish(subject, JSON.stringify({ n: 1 }), { msgID: 'acme:e1' });
    const again = await js.publish(subject, JSON.stringify({ n: 1 }), { msgID: 'acme:e1' });
    const second = await js.publish(subject, JSON.stringify({ n: 2 }), { msgID: 'acme:e2' });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq + 1);

    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(names.eventsStream, {
      durable_name: 'roundtrip',
      ack_policy: AckPolicy.Explicit,
    });
    const consumer = await js.consumers.get(names.eventsStream, 'roundtrip');
    const batch = await consumer.fetch({ max_messages: 10, expires: 1000 });
    const seen: number[] = [];
    for await (const m of batch) {
      seen.push((m.json() as { n: number }).n);
      m.ack();
    }
    expect(seen).toEqual([1, 2]);
  });
});
