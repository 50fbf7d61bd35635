import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, testStreamLimits, waitFor, type OwnNatsServer } from '@tally/testing';
import { connectNats } from './connection';
import { natsNames } from './names';
import { ingestInboxPrefix, natsAuthorizationConf } from './permissions';
import { ensureStreams } from './streams';

/**
 * The NATS permissions of docs/security.md on a server of this test's own (the shared server is
 * never reloaded with authorization): what a tenant's ingest credentials can and cannot do.
 */
describe('NATS users and permissions (own nats-server)', () => {
  const names = natsNames('tally');
  const services = { natsUser: 'svc', natsPassword: 'svc-pw' };
  const acme = { natsUser: 'ingest-acme', natsPassword: 'acme-pw', inboxPrefix: ingestInboxPrefix('acme') };
  let server: OwnNatsServer;
  let svc: NatsConnection;
  let client: NatsConnection;
  /** Permission errors the server reported to the ingest client's connection (publishes). */
  const violations: PermissionViolationError[] = [];

  beforeAll(async () => {
    server = await startNatsServer(
      natsAuthorizationConf({
        names,
        services: { user: services.natsUser, password: services.natsPassword },
        ingest: [
          { tenant: 'acme', user: acme.natsUser, password: acme.natsPassword },
          { tenant: 'globex', user: 'ingest-globex', password: 'globex-pw' },
        ],
      }),
    );
    svc = await connectNats(server.url, 'services', services);
    await ensureStreams(svc, names, testStreamLimits);
    const keys = await new Kvm(svc).create(names.apiKeysBucket);
    await keys.put('existing', 'admin');
    // The gateway's side of the ingress: answers every request on the ingress subjects.
    for (const subject of [names.ingestSubjectAll, names.pointsIngestSubjectAll]) {
      svc.subscribe(subject, { callback: (_err, msg) => void msg.respond(`ok ${msg.subject}`) });
    }
    await svc.flush();
    client = await connectNats(server.url, 'ingest client', acme);
    void (async () => {
      for await (const s of client.status()) {
        if (s.type === 'error' && s.error instanceof PermissionViolationError) violations.push(s.error);
      }
    })();
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await svc?.close();
    await server?.stop();
  });

  it('refuses a connection without credentials or with a wrong password', async () => {
    // nats: no credentials on purpose
    await expect(connectNats(server.url, 'anonymous')).rejects.toThrow(/Authorization/i);
    await expect(connectNats(server.url, 'wrong', { ...acme, natsPassword: 'nope' })).rejects.toThrow(/Authorization/i);
  });

  it("lets an ingest user send requests on its own tenant's ingress subjects and get the replies", async () => {
    expect((await client.request(names.ingestSubject('acme'), '{}', { timeout: 5_000 })).string()).toBe(
      `ok ${names.ingestSubject('acme')}`,
    );
    expect((await client.request(names.pointsIngestSubject('acme', 'calls'), '{}', { timeout: 5_000 })).string()).toBe(
      `ok ${names.pointsIngestSubject('acme', 'calls')}`,
    );
  });

  it("refuses publishing to another tenant's ingress, the events stream, the JetStream API and the KV buckets", async () => {
    const denied = [
      names.ingestSubject('globex'),
      names.pointsIngestSubject('globex', 'calls'),
      names.eventsSubject('acme'),
      names.eventsSubject('globex'),
      '$JS.API.INFO',
      `$JS.API.STREAM.CREATE.${names.eventsStream}`,
      `$KV.${names.apiKeysBucket}.minted`,
    ];
    for (const subject of denied) client.publish(subject, '{"v":1,"tenant":"acme","receivedAt":0,"events":[]}');
    await client.flush();
    await waitFor(async () => denied.every((s) => violations.some((v) => v.operation === 'publish' && v.subject === s)), {
      timeoutMs: 10_000,
      what: `a publish permission error for each of ${denied.join(', ')}`,
    });
    // The JetStream clients fail too, whatever they try.
    await expect(jetstreamManager(client, { timeout: 2_000 })).rejects.toThrow();
    await expect(jetstream(client, { timeout: 2_000 }).publish(names.eventsSubject('acme'), '{}')).rejects.toThrow();
    const kv = await new Kvm(jetstream(client, { timeout: 2_000 })).open(names.apiKeysBucket);
    await expect(kv.put('minted', 'admin')).rejects.toThrow();
    await expect(kv.get('existing')).rejects.toThrow();

    // Nothing reached the stream or the bucket.
    const info = await (await jetstreamManager(svc)).streams.info(names.eventsStream);
    expect(info.state.messages).toBe(0);
    const keys = await (await new Kvm(svc).open(names.apiKeysBucket)).keys();
    const all: string[] = [];
    for await (const k of keys) all.push(k);
    expect(all).toEqual(['existing']);
  });

  it("refuses subscribing to other tenants' invoices and alerts, the stream subjects and other clients' replies", async () => {
    for (const subject of [
      names.invoicesSubject('globex'),
      names.alertsSubject('globex'),
      `${names.prefix}.invoices.>`,
      `${names.prefix}.alerts.>`,
      names.eventsSubjectAll,
      '_INBOX.>',
      `${ingestInboxPrefix('globex')}.>`,
      '>',
    ]) {
      const sub = client.subscribe(subject);
      const closed = await sub.closed;
      expect(closed).toBeInstanceOf(PermissionViolationError);
      expect(closed).toMatchObject({ operation: 'subscription', subject });
    }
  });
});
