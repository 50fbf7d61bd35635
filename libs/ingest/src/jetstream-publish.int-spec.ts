import { DiscardPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { UnavailableError } from '@tally/errors';
import { connectNats, type NatsConnection } from '@tally/nats';
import { randomPrefix, testNatsUrl, testNatsAuth } from '@tally/testing';
import { JetStreamAcks, publishParts, type JetStreamPublishTarget } from './jetstream-publish';

const data = (text: string) => new TextEncoder().encode(text);

async function publishError(
  target: JetStreamPublishTarget,
  subject: string,
  timeoutMs = 2_000,
): Promise<UnavailableError> {
  const error = await publishParts(target, subject, [data('x')], randomPrefix('id'), timeoutMs, 'Test').catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnavailableError);
  return error as UnavailableError;
}

describe('JetStreamAcks (real NATS): the outcomes of js.publish', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const prefix = randomPrefix('acks');
  const stream = prefix.toUpperCase();
  const full = `${stream}_FULL`;

  beforeAll(async () => {
    nc = await connectNats(testNatsUrl(), 'jetstream-publish.int-spec', testNatsAuth());
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.s.>`], duplicate_window: 60_000_000_000 });
    await jsm.streams.add({
      name: full,
      subjects: [`${prefix}.full.>`],
      max_msgs: 1,
      discard: DiscardPolicy.New,
    });
  });
  afterAll(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
    await jsm.streams.delete(full).catch(() => undefined);
    await nc.close();
  });

  it('acks like js.publish: sequence numbers, and duplicates by message id', async () => {
    const acks = new JetStreamAcks(nc);
    const js = jetstream(nc);
    const first = await publishParts(acks, `${prefix}.s.a`, [data('1')], 'm1', 2_000, 'Test');
    const again = await publishParts(acks, `${prefix}.s.a`, [data('1')], 'm1', 2_000, 'Test');
    const viaNatsJs = await js.publish(`${prefix}.s.a`, data('1'), { msgID: 'm1' });
    const parts = await publishParts(acks, `${prefix}.s.a`, [data('2'), data('3')], 'm2', 2_000, 'Test');
    expect(first).toEqual({ duplicate: false, seq: first.seq });
    expect(again).toEqual({ duplicate: true, seq: first.seq });
    expect(viaNatsJs.duplicate).toBe(true);
    expect(parts).toEqual({ duplicate: false, seq: first.seq + 2 });
    expect((await jsm.streams.getMessage(stream, { seq: first.seq + 1 }))?.header.get('Nats-Msg-Id')).toBe(
      'm2:0',
    );
    // Concurrent publishes each get their own ack.
    const seqs = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        acks.publish(`${prefix}.s.b`, data(String(i)), { msgID: `c${i}`, timeout: 2_000 }),
      ),
    );
    expect(new Set(seqs.map((a) => a.seq)).size).toBe(50);
  });

  it('maps a full stream to STREAM_FULL, and no stream, no answer or a closed connection to STREAM_UNAVAILABLE', async () => {
    const acks = new JetStreamAcks(nc);
    await publishParts(acks, `${prefix}.full.a`, [data('1')], 'f1', 2_000, 'Test');
    expect((await publishError(acks, `${prefix}.full.a`)).code).toBe('STREAM_FULL');

    expect((await publishError(acks, `${prefix}.nostream`)).code).toBe('STREAM_UNAVAILABLE');

    const silent = nc.subscribe(`${prefix}.silent`); // receives, never replies
    const started = Date.now();
    expect((await publishError(acks, `${prefix}.silent`, 200)).code).toBe('STREAM_UNAVAILABLE');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    silent.unsubscribe();

    const other = await connectNats(testNatsUrl(), 'jetstream-publish.int-spec closing', testNatsAuth());
    const closing = new JetStreamAcks(other);
    other.subscribe(`${prefix}.silent2`);
    const inFlight = publishError(closing, `${prefix}.silent2`, 30_000);
    await other.flush();
    const closedAt = Date.now();
    await other.close();
    expect((await inFlight).code).toBe('STREAM_UNAVAILABLE');
    expect(Date.now() - closedAt).toBeLessThan(5_000); // failed by the close, not by its timeout
    expect((await publishError(closing, `${prefix}.s.a`)).code).toBe('STREAM_UNAVAILABLE');
  });
});
