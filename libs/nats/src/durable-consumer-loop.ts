import { AckPolicy, DeliverPolicy, JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';

/** A durable pull consumer that several processes share (each message goes to one of them at a time). */
export interface DurableConsumerConfig {
  stream: string;
  durable: string;
  filterSubject: string;
  /** Several subjects instead of `filterSubject` (a writer partition that also drains the unpartitioned subjects). */
  filterSubjects?: string[];
  /** Redelivery delay of a message whose consumer died before acking it. */
  ackWaitMs: number;
  maxAckPending: number;
  /** Pull requests the server keeps waiting at once (JetStream's default when absent). */
  maxWaiting?: number;
}

/**
 * Creates the durable consumer (explicit acks, from the stream's start), or, when another process
 * created it already, brings its filter, ack wait and pending limit to this configuration: a restart
 * with new settings (or a new partition count, with the stream drained) takes effect without deleting
 * the consumer (which would lose its acknowledged position).
 */
export async function ensureDurableConsumer(nc: NatsConnection, config: DurableConsumerConfig): Promise<void> {
  await ensureDurableConsumerWith(await jetstreamManager(nc), config);
}

/** JetStream's error code for a create that names an existing durable with another configuration. */
export const CONSUMER_ALREADY_EXISTS = 10148;

/** Whether `error` is JetStream's "consumer already exists" answer (and nothing else: a missing stream, a timeout). */
export function isConsumerAlreadyExists(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === CONSUMER_ALREADY_EXISTS;
}

/**
 * {@link ensureDurableConsumer} on a given manager. Only "consumer already exists" turns into an
 * update: any other refusal of the create (no such stream, a limit, a timeout) is thrown as it is,
 * not hidden behind the update's own failure or, worse, an update of a consumer that is not there.
 */
export async function ensureDurableConsumerWith(
  jsm: Pick<JetStreamManager, 'consumers'>,
  config: DurableConsumerConfig,
): Promise<void> {
  const ackWait = nanos(config.ackWaitMs);
  // One filter goes in `filter_subject` (every server version); several in `filter_subjects` (2.10+).
  // An update names both, the unused one undefined, so that it replaces the filter the consumer had.
  const filters = config.filterSubjects ?? [config.filterSubject];
  const filter =
    filters.length > 1
      ? { filter_subjects: filters, filter_subject: undefined }
      : { filter_subject: filters[0], filter_subjects: undefined };
  await jsm.consumers
    .add(config.stream, {
      durable_name: config.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...filter,
      ack_wait: ackWait,
      max_ack_pending: config.maxAckPending,
      ...(config.maxWaiting !== undefined ? { max_waiting: config.maxWaiting } : {}),
    })
    .catch(async (error: unknown) => {
      if (!isConsumerAlreadyExists(error)) throw error;
      await jsm.consumers.update(config.stream, config.durable, {
        ...filter,
        ack_wait: ackWait,
        max_ack_pending: config.maxAckPending,
      });
    });
}

/**
 * Start and stop of a loop that pulls from a durable consumer (the writer's, the billing worker's
 * rebill notices): `start()` ensures the consumer and runs `run()` in the background; `stop()` lets
 * `run()` see `running` turn false, cuts short the wait in progress (`sleep`, `timer`) and resolves
 * once `run()` returned. What `run()` holds unacked when it stops is redelivered after the ack wait.
 */
const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 5_000;
/** A run that lasted this long was healthy: the next restart waits the minimum again. */
const RESTART_RESET_MS = 30_000;

export abstract class DurableConsumerLoop {
  protected running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  protected constructor(protected readonly nc: NatsConnection) {}

  /** The consumer to ensure on start (read then, so subclasses may derive it from their own fields). */
  protected abstract consumerConfig(): DurableConsumerConfig;

  /** The loop body: runs until `running` is false. */
  protected abstract run(): Promise<void>;

  async start(): Promise<void> {
    await ensureDurableConsumer(this.nc, this.consumerConfig());
    this.running = true;
    this.loop = this.supervise();
  }

  /**
   * Runs `run()` again whenever it ends or fails while the loop is still meant to run. On a NATS
   * cluster a pull subscription ends, or `consumers.get` times out, while its stream's or consumer's
   * leader is being elected (a node died); without this the loop stopped for good and its consumer's
   * messages waited forever (found by tools/cluster/cluster.cluster-spec.ts). A restart pulls from the
   * same durable consumer: what the old pull held unacked is redelivered after the ack wait.
   */
  private async supervise(): Promise<void> {
    let delay = RESTART_MIN_MS;
    while (this.running) {
      const started = Date.now();
      try {
        await this.run();
      } catch (error) {
        this.runFailed(error);
      }
      if (!this.running) break;
      if (Date.now() - started > RESTART_RESET_MS) delay = RESTART_MIN_MS;
      await this.sleep(delay);
      delay = Math.min(2 * delay, RESTART_MAX_MS);
    }
  }

  /** `run()` threw while running (it is started again after a pause); subclasses log it. */
  protected runFailed(error: unknown): void {
    void error;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** A wait that stop() can cut short and that the caller cancels when something else won the race. */
  protected timer(ms: number): { elapsed: Promise<void>; cancel: () => void } {
    let cancel: () => void = () => undefined;
    const elapsed = new Promise<void>((resolve) => {
      const handle = setTimeout(resolve, ms);
      cancel = () => clearTimeout(handle);
      this.wake = () => {
        clearTimeout(handle);
        resolve();
      };
    });
    return { elapsed, cancel };
  }

  /** Waits `ms`, or less when stop() is called. */
  protected sleep(ms: number): Promise<void> {
    return this.timer(ms).elapsed;
  }
}
