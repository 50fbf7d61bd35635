import { connect, type NatsConnection } from '@nats-io/transport-node';

export type { NatsConnection };

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
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
