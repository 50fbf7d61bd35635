import { env, infraConfig, loadConfig } from '@tally/config';

export const writerConfigSpec = {
  port: env.port('WRITER_PORT', 3002, 'health and metrics port'),
  host: env.string('WRITER_HOST', '127.0.0.1', 'interface to listen on'),
  natsPrefix: env.string('TALLY_NATS_PREFIX', 'tally', 'prefix of every stream, subject and bucket'),
  natsUrl: infraConfig.natsUrl,
  clickhouseUrl: infraConfig.clickhouseUrl,
  clickhouseUser: infraConfig.clickhouseUser,
  clickhousePassword: infraConfig.clickhousePassword,
  clickhouseDatabase: infraConfig.clickhouseDatabase,
  maxBatchBytes: env.int('WRITER_MAX_BATCH_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024, 'flush when this many bytes are pending'),
  flushIntervalMs: env.int('WRITER_FLUSH_INTERVAL_MS', 1_000, 10, 60_000, 'flush at least this often'),
  ackWaitMs: env.int('WRITER_ACK_WAIT_MS', 30_000, 1_000, 3_600_000, 'redelivery delay for unacked messages'),
  /** Fault injection for the crash-recovery test only: SIGKILL the process right after an insert, before the ack. */
  crashAfterInsert: env.bool('WRITER_TEST_CRASH_AFTER_INSERT', false, 'test only: die between insert and ack'),
  logLevel: infraConfig.logLevel,
};

export type WriterConfig = ReturnType<typeof loadWriterConfig>;
export const loadWriterConfig = (source = process.env) => loadConfig('writer', writerConfigSpec, source);
