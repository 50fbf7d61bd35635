import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { ensureDurableConsumerWith, type DurableConsumerConfig } from './durable-consumer-loop';

const config: DurableConsumerConfig = {
  stream: 'EVENTS',
  durable: 'writer',
  filterSubject: 'tally.events.>',
  ackWaitMs: 30_000,
  maxAckPending: 100,
};

/** A manager whose create answers `addError` (or succeeds) and whose update always succeeds. */
function manager(addError?: Error) {
  const calls: string[] = [];
  const jsm = {
    consumers: {
      add: async () => {
        calls.push('add');
        if (addError) throw addError;
        return {};
      },
      update: async () => {
        calls.push('update');
        return {};
      },
    },
  } as unknown as Pick<JetStreamManager, 'consumers'>;
  return { jsm, calls };
}

const apiError = (errCode: number, description: string) =>
  new JetStreamApiError({ code: 400, err_code: errCode, description });

describe('ensureDurableConsumerWith', () => {
  it('creates the consumer when it is new', async () => {
    const { jsm, calls } = manager();
    await ensureDurableConsumerWith(jsm, config);
    expect(calls).toEqual(['add']);
  });

  it('updates the consumer when the create answers "consumer already exists" (10148)', async () => {
    const { jsm, calls } = manager(apiError(10148, 'consumer already exists'));
    await ensureDurableConsumerWith(jsm, config);
    expect(calls).toEqual(['add', 'update']);
  });

  it('throws any other refusal of the create instead of updating', async () => {
    const missing = apiError(10059, 'stream not found');
    const { jsm, calls } = manager(missing);
    await expect(ensureDurableConsumerWith(jsm, config)).rejects.toBe(missing);
    expect(calls).toEqual(['add']);
  });

  it('throws a timeout of the create instead of updating', async () => {
    const timeout = new Error('TIMEOUT');
    const { jsm, calls } = manager(timeout);
    await expect(ensureDurableConsumerWith(jsm, config)).rejects.toBe(timeout);
    expect(calls).toEqual(['add']);
  });
});
