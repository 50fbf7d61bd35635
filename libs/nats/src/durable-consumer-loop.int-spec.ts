import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { randomPrefix, testNatsAuth, testNatsUrl, testStreamLimits } from '@tally/testing';
import { connectNats, type NatsConnection } from './connection';
import { DurableConsumerLoop, ensureDurableConsumer, type DurableConsumerConfig } from './durable-consumer-loop';
import { natsNames } from './names';
import { deleteStreams, ensureStreams } from './streams';

describe('durable consumer loop (real NATS)', () => {
  let nc: NatsConnection;
  const names = natsNames(randomPrefix());

  beforeAll(async () => {
    nc = await connectNats(testNatsUrl(), 'durable-consumer-loop.int-spec', testNatsAuth());
    await ensureStreams(nc, names, testStreamLimits);
  });
  afterAll(async () => {
    await deleteStreams(nc, names);
    await nc.close();
  });

  const config = (over: Partial<DurableConsumerConfig> = {}): DurableConsumerConfig => ({
    stream: names.eventsStream,
    durable: `${names.prefix}_loop`,
    filterSubject: names.eventsSubjectAll,
    ackWaitMs: 30_000,
    maxAckPending: 100,
    ...over,
  });

  it('creates the consumer once and brings a running one to new settings', async () => {
    await ensureDurableConsumer(nc, config());
    await ensureDurableConsumer(nc, config({ ackWaitMs: 5_000, maxAckPending: 7 }));
    const info = await (await jetstreamManager(nc)).consumers.info(names.eventsStream, `${names.prefix}_loop`);
    expect(info.config).toMatchObject({ ack_wait: 5_000 * 1e6, max_ack_pending: 7, filter_subject: names.eventsSubjectAll });
    // The events stream is a work queue: one consumer per subject at a time.
    await (await jetstreamManager(nc)).consumers.delete(names.eventsStream, `${names.prefix}_loop`);
  });

  it('moves a running consumer to a new filter: two filters to one and back (a changed partition count)', async () => {
    const jsm = await jetstreamManager(nc);
    const durable = `${names.prefix}_filters`;
    const two = [names.eventsPartitionFilters(0, 4)[0], names.eventsPartitionFilters(0, 4)[1]];
    await ensureDurableConsumer(nc, config({ durable, filterSubjects: two }));
    expect((await jsm.consumers.info(names.eventsStream, durable)).config.filter_subjects).toEqual(two);
    const one = names.eventsPartitionFilters(0, 1);
    await ensureDurableConsumer(nc, config({ durable, filterSubject: names.eventsSubjectAll, filterSubjects: one }));
    let info = (await jsm.consumers.info(names.eventsStream, durable)).config;
    expect(info.filter_subject).toBe(names.eventsSubjectAll);
    expect(info.filter_subjects ?? []).toEqual([]);
    await ensureDurableConsumer(nc, config({ durable, filterSubjects: two }));
    info = (await jsm.consumers.info(names.eventsStream, durable)).config;
    expect(info.filter_subjects).toEqual(two);
    expect(info.filter_subject ?? '').toBe('');
    await jsm.consumers.delete(names.eventsStream, durable);
  });

  it('starts a loop on its consumer, and stop() cuts its wait short and waits for it to end', async () => {
    const seen: string[] = [];
    let sleeping = false;
    class Loop extends DurableConsumerLoop {
      constructor() {
        super(nc);
      }
      protected consumerConfig(): DurableConsumerConfig {
        return config({ durable: `${names.prefix}_run` });
      }
      protected async run(): Promise<void> {
        const consumer = await jetstream(this.nc).consumers.get(names.eventsStream, `${names.prefix}_run`);
        while (this.running) {
          const batch = await consumer.fetch({ max_messages: 10, expires: 1_000 });
          for await (const m of batch) {
            seen.push(m.string());
            m.ack();
          }
          sleeping = seen.length > 0;
          await this.sleep(60_000); // stop() must not wait for this
        }
        seen.push('ended');
      }
    }
    await jetstream(nc).publish(names.eventsSubject('acme'), 'one');
    const loop = new Loop();
    await loop.start();
    while (!sleeping) await new Promise((r) => setTimeout(r, 20));
    const stopping = Date.now();
    await loop.stop();
    expect(Date.now() - stopping).toBeLessThan(10_000);
    expect(seen).toEqual(['one', 'ended']);
  });
});
