import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';

export type { NatsConnection };

/**
 * How a client proves who it is to NATS and secures the connection (docs/security.md#nats). The
 * fields are those of the services' configuration (`natsConnectionConfig` of @tally/config); empty
 * strings mean "not set".
 */
export interface NatsAuth {
  natsUser?: string;
  natsPassword?: string;
  /** A `.creds` file (JWT and NKey seed), for servers in operator/JWT mode. */
  natsCredsFile?: string;
  /** CA of the server's certificate: setting it (or a client certificate) requires TLS. */
  natsTlsCaFile?: string;
  natsTlsCertFile?: string;
  natsTlsKeyFile?: string;
  /**
   * Prefix of the client's reply subjects (`_INBOX` by default). An ingest user may subscribe only
   * to its own inboxes, `_INBOX_<tenant>.>` (see `ingestInboxPrefix`).
   */
  inboxPrefix?: string;
}

/** The connect options `auth` stands for; throws on a combination that cannot work. */
export function natsAuthOptions(auth: NatsAuth = {}): Partial<ConnectionOptions> {
  const opts: Partial<ConnectionOptions> = {};
  if (auth.natsCredsFile && auth.natsUser) throw new Error('NATS: set either a user or a credentials file, not both');
  if (!!auth.natsTlsCertFile !== !!auth.natsTlsKeyFile) throw new Error('NATS: a client certificate needs its key, and a key its certificate');
  if (auth.natsUser) {
    opts.user = auth.natsUser;
    opts.pass = auth.natsPassword ?? '';
  }
  if (auth.natsCredsFile) opts.authenticator = credsAuthenticator(readFileSync(auth.natsCredsFile));
  if (auth.natsTlsCaFile || auth.natsTlsCertFile) {
    opts.tls = {
      ...(auth.natsTlsCaFile ? { caFile: auth.natsTlsCaFile } : {}),
      ...(auth.natsTlsCertFile ? { certFile: auth.natsTlsCertFile, keyFile: auth.natsTlsKeyFile } : {}),
    };
  }
  if (auth.inboxPrefix) opts.inboxPrefix = auth.inboxPrefix;
  return opts;
}

export async function connectNats(url: string, name: string, auth?: NatsAuth): Promise<NatsConnection> {
  return connect({
    // A cluster is named by several URLs, comma-separated: the client moves to another on failure.
    servers: url.split(',').map((u) => u.trim()).filter(Boolean),
    name,
    ...natsAuthOptions(auth),
    // Keep trying forever: a service that loses NATS must come back by itself when NATS does.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // Otherwise every request (each JetStream publish and ackAck) builds two Error objects up
    // front just in case it fails: 5% of the gateway's CPU under load. Tally wraps these
    // failures in its own errors, which say what was being done.
    noAsyncTraces: true,
  });
}

/** Health check: the connection is up and the server answers a round trip. */
export class NatsHealth {
  readonly name = 'nats';

  constructor(private readonly nc: NatsConnection) {}

  async check(): Promise<void> {
    if (this.nc.isClosed()) throw new Error('connection closed');
    await this.nc.rtt();
  }
}
