import { connectNats, type NatsConnection } from '@tally/nats';
import { httpTransport, natsTransport, TallyClient, type Transport } from '@tally/sdk';
import { testNatsUrl, testNatsAuth } from '@tally/testing';
import { IngestionHarness } from './ingestion-harness';

/**
 * The SDK against the real gateway and writer: a response lost on the way back (the gateway stored
 * the batch, the client never heard) makes the SDK retry, and the retry is counted once.
 */
describe('SDK → gateway → writer (real services)', () => {
  const h = new IngestionHarness();
  let key: string;
  let nc: NatsConnection;

  beforeAll(async () => {
    await h.start();
    ({ ingestKey: key } = await h.tenant('sdkco'));
    nc = await connectNats(testNatsUrl(), 'sdk-int-spec', testNatsAuth());
  }, 120_000);
  afterAll(async () => {
    await nc?.close();
    await h.stop();
  });

  it('retries a batch whose response was lost and still counts each event once', async () => {
    const real = httpTransport({ baseUrl: h.gatewayUrl, apiKey: key });
    let lost = 0;
    const losingResponses: Transport = {
      async send(request, signal) {
        const response = await real.send(request, signal);
        if (lost < 2) {
          lost++;
          throw new Error('connection reset after the gateway answered');
        }
        return response;
      },
    };
    const tally = new TallyClient({
      transport: losingResponses,
      maxBatch: 50,
      retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 5 },
    });
    for (let i = 0; i < 120; i++) {
      tally.record({ customerId: `c${i % 3}`, metricName: 'api_call', quantity: '0.5', timestamp: Date.now() - 1_000 });
    }
    await tally.close();

    expect(lost).toBe(2);
    expect(tally.stats()).toMatchObject({ recorded: 120, dropped: 0, failed: 0 });
    await h.waitForEvents('sdkco', 120);
    await h.waitForDrained();
    expect(await h.total('sdkco')).toEqual({ events: '120', quantity: '60' });
  });

  it('sends over NATS ingress with the same guarantees', async () => {
    const tally = new TallyClient({
      transport: natsTransport({ connection: nc, tenant: 'sdkco', apiKey: key, subjectPrefix: h.names.prefix }),
    });
    const ids = [1, 2, 3].map((i) => tally.record({ customerId: 'nats-customer', metricName: 'api_call', quantity: i }));
    await tally.close();
    expect(tally.stats()).toMatchObject({ accepted: 3, dropped: 0, failed: 0 });
    await h.waitForEvents('sdkco', 123);
    const rows = (await h.rows('sdkco')).filter((r) => r.customer === 'nats-customer');
    expect(rows.map((r) => r.event_id).sort()).toEqual([...ids].sort());
  });
});
