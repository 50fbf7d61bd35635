import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Gauge, type Registry } from 'prom-client';

/**
 * How full Tally's streams are, read from JetStream at scrape time (the server is the source of
 * truth, and any process that can reach it reports the same numbers): bytes and messages stored,
 * and the configured limits (`-1`: none). `tally_stream_bytes / tally_stream_max_bytes` is what the
 * stream-fullness alert watches; a stream that is full refuses new events (`STREAM_FULL`, 503).
 * The label is the stream's name: a handful per deployment.
 */
export function watchStreams(nc: NatsConnection, streams: readonly string[], registry: Registry): void {
  const labelNames = ['stream'] as const;
  const bytes = new Gauge({
    name: 'tally_stream_bytes',
    help: 'Bytes stored in the stream',
    labelNames,
    registers: [registry],
  });
  const messages = new Gauge({
    name: 'tally_stream_messages',
    help: 'Messages stored in the stream',
    labelNames,
    registers: [registry],
  });
  const maxBytes = new Gauge({
    name: 'tally_stream_max_bytes',
    help: "The stream's byte limit (-1: none)",
    labelNames,
    registers: [registry],
  });
  const maxMessages = new Gauge({
    name: 'tally_stream_max_messages',
    help: "The stream's message limit (-1: none)",
    labelNames,
    registers: [registry],
  });
  new Gauge({
    name: 'tally_stream_scrape_ok',
    help: '1 when every stream could be read at the last scrape',
    registers: [registry],
    async collect() {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        for (const stream of streams) {
          const info = await jsm.streams.info(stream);
          bytes.set({ stream }, info.state.bytes);
          messages.set({ stream }, info.state.messages);
          maxBytes.set({ stream }, info.config.max_bytes);
          maxMessages.set({ stream }, info.config.max_msgs);
        }
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });
}
