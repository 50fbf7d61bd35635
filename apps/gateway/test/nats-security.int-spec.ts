import { headers as natsHeaders } from '@nats-io/transport-node';
import { connectNats, ingestInboxPrefix, natsAuthorizationConf, natsNames, type NatsConnection } from '@tally/nats';
import { natsTransport, TallyClient } from '@tally/sdk';
import { randomPrefix, startNatsServer, testNatsAuth, type OwnNatsServer } from '@tally/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { IngestionHarness } from './ingestion-harness';

/**
 * NATS ingress with authorization on (docs/security.md#nats), on a nats-server of this test's own:
 * the gateway and writer connect as the services user, a customer's SDK with its tenant's ingest
 * user. The ingest user reaches the gateway, and only through an inbox.
 */
describe('NATS ingress with per-tenant ingest users (real gateway and writer)', () => {
  const prefix = randomPrefix('t');
  const names = natsNames(prefix);
  const acmeAuth = { natsUser: 'ingest-acme', natsPassword: 'acme-secret', inboxPrefix: ingestInboxPrefix('acme') };
  let server: OwnNatsServer;
  let h: IngestionHarness;
  let acme: NatsConnection;
  let key: string;

  beforeAll(async () => {
    const services = testNatsAuth();
    server = await startNatsServer(
      natsAuthorizationConf({
        names,
        services: { user: services.natsUser, password: services.natsPassword },
        ingest: [
          { tenant: 'acme', user: acmeAuth.natsUser, password: acmeAuth.natsPassword },
          { tenant: 'globex', user: 'ingest-globex', password: 'globex-secret' },
        ],
      }),
    );
    h = await new IngestionHarness({ natsUrl: server.url, prefix }).start();
    ({ ingestKey: key } = await h.tenant('acme'));
    await h.tenant('globex');
    acme = await connectNats(server.url, 'acme sdk', acmeAuth);
  }, 180_000);

  afterAll(async () => {
    await acme?.close();
    await h?.stop();
    await server?.stop();
  });

  it('stores what the SDK sends with the ingest credentials of its tenant', async () => {
    const tally = new TallyClient({ transport: natsTransport({ connection: acme, tenant: 'acme', apiKey: key, subjectPrefix: prefix }) });
    for (let i = 1; i <= 3; i++) tally.record({ customerId: 'c1', metricName: 'api_call', quantity: i });
    await tally.close();
    expect(tally.stats()).toMatchObject({ accepted: 3, failed: 0 });
    await h.waitForEvents('acme', 3);
    expect(await h.total('acme')).toEqual({ events: '3', quantity: '6' });
  });

  it('does not answer onto a non-inbox subject: a request cannot make the gateway write to a stream', async () => {
    const jsm = await jetstreamManager(h.nc);
    const before = (await jsm.streams.info(names.eventsStream)).state.messages;
    const hdr = natsHeaders();
    hdr.set('Authorization', `Bearer ${key}`);
    hdr.set('Content-Type', 'application/json');
    const body = (id: string): string => JSON.stringify({ eventId: id, customerId: 'c1', metricName: 'api_call', quantity: '100' });
    // The reply subject is not checked by NATS permissions (only the gateway publishes to it).
    acme.publish(names.ingestSubject('acme'), body('forged-reply'), { headers: hdr, reply: names.eventsSubject('globex') });
    acme.publish(names.ingestSubject('acme'), body('no-reply'), { headers: hdr });
    // A proper request after them: once it is answered, the gateway has handled both.
    const reply = await acme.request(names.ingestSubject('acme'), body('proper'), { headers: hdr, timeout: 10_000 });
    expect([reply.headers?.get('Tally-Status'), reply.string()]).toEqual(['202', expect.any(String)]);
    const info = await jsm.streams.info(names.eventsStream, { subjects_filter: names.eventsSubjectAll });
    expect(info.state.messages).toBe(before + 1); // the proper request's batch only
    expect(info.state.subjects?.[names.eventsSubject('globex')]).toBeUndefined();
    expect(h.gateway.output()).toContain('NATS ingress request without an inbox reply subject refused');
  });
});
