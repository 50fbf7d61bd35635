import { ApiKeyStore, CatalogStore } from '@tally/catalog';
import { connectNats, natsNames, type NatsAuth } from '@tally/nats';
import type { CliConnection } from './cli';

/** The CLI's real connection: the catalog and API-key buckets of one NATS prefix. */
export async function connectCatalog(
  settings: {
    natsUrl: string;
    natsPrefix: string;
  } & NatsAuth,
): Promise<CliConnection> {
  const names = natsNames(settings.natsPrefix);
  const nc = await connectNats(settings.natsUrl, 'tally-cli', settings);
  try {
    const [catalog, keys] = await Promise.all([CatalogStore.open(nc, names), ApiKeyStore.open(nc, names)]);
    return {
      catalog,
      keys,
      async close() {
        await keys.close();
        await nc.drain();
      },
    };
  } catch (error) {
    await nc.close();
    throw error;
  }
}
