import { Client, Connection } from '@temporalio/client';

export interface TemporalClientOptions {
  address: string;
  namespace: string;
  /**
   * Connect on first use instead of now, so that a service that only sometimes talks to Temporal (the
   * writer, the query API) starts, and keeps serving, while Temporal is down.
   */
  lazy?: boolean;
}

/** A Temporal client and the connection to close on shutdown. */
export async function connectTemporal(
  options: TemporalClientOptions,
): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = options.lazy
    ? Connection.lazy({ address: options.address })
    : await Connection.connect({ address: options.address });
  return {
    client: new Client({ connection, namespace: options.namespace }),
    close: () => connection.close(),
  };
}
