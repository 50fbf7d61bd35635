import { uuidV7 } from '@tally/event-schema';
import { ZipfSampler } from './zipf';

export interface BatchFactoryOptions {
  /** Events per request (default 100). */
  batchSize?: number;
  /** Distinct customers, `cus_0000` .. (default 1,000). */
  customers?: number;
  /** Zipf exponent of the customer distribution (default 1; 0 is uniform). */
  zipfExponent?: number;
  /** Uniform [0, 1) source; seed it (`seededRandom`) for a repeatable sequence. */
  random?: () => number;
  /** Epoch ms; also stamps the UUIDv7 ids (default `Date.now`). */
  now?: () => number;
  /** `metadata.source` of every event. */
  source?: string;
}

export interface GeneratedBatch {
  /** The request body: `{"events":[...]}` in Tally's native format. */
  body: string;
  events: number;
  /** Exact sum of the batch's quantities in thousandths (quantities have 3 decimals at most). */
  quantityMilli: number;
  /** The idempotency key of the probe event, when this batch carries one. */
  probeId?: string;
}

/** The event type of probe events, so a query can find them through the primary key prefix. */
export const PROBE_EVENT_TYPE = 'bench_probe';

const EVENT_TYPES = ['api_calls', 'tokens', 'storage_gb'];
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-south-1', 'us-west-2'];
const MODELS = ['small', 'medium', 'large'];

/**
 * Builds request bodies of N native events by string templates: the load generator shares the
 * machine with what it measures, so a body costs a few string concatenations per event, not an
 * object graph and a JSON.stringify. Every value is a fixed token or digits, so nothing needs
 * escaping, and every event has a fresh UUIDv7 idempotency key (what the SDK assigns), so a
 * successful run stores exactly the number of events accepted.
 */
export class BatchFactory {
  readonly batchSize: number;
  private readonly customerIds: string[];
  private readonly sampler: ZipfSampler;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly tail: string;

  constructor(options: BatchFactoryOptions = {}) {
    this.batchSize = options.batchSize ?? 100;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${this.batchSize}`);
    }
    const customers = options.customers ?? 1_000;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.sampler = new ZipfSampler(customers, options.zipfExponent ?? 1, this.random);
    const width = String(customers - 1).length;
    this.customerIds = Array.from({ length: customers }, (_, i) => `cus_${String(i).padStart(width, '0')}`);
    const source = options.source ?? 'loadgen';
    if (!/^[\w.-]*$/.test(source)) throw new RangeError(`source must be a plain token, got '${source}'`);
    this.tail = `},"metadata":{"source":"${source}"}}`;
  }

  /** The customer id of a 0-based Zipf rank (rank 0 is the busiest). */
  customer(rank: number): string {
    return this.customerIds[rank];
  }

  /** One request body; `probeId` makes its first event a probe with that idempotency key. */
  next(probeId?: string): GeneratedBatch {
    const ts = this.now();
    let body = '{"events":[';
    let quantityMilli = 0;
    for (let i = 0; i < this.batchSize; i++) {
      const probe = i === 0 && probeId !== undefined;
      const milli = 1 + Math.floor(this.random() * 100_000);
      quantityMilli += milli;
      const type = probe ? PROBE_EVENT_TYPE : EVENT_TYPES[Math.floor(this.random() * EVENT_TYPES.length)];
      body +=
        (i === 0 ? '{"eventId":"' : ',{"eventId":"') +
        (probe ? probeId : uuidV7(ts)) +
        '","timestamp":' +
        ts +
        ',"customerId":"' +
        this.customerIds[this.sampler.next()] +
        '","metricName":"' +
        type +
        '","quantity":"' +
        decimalFromMilli(milli) +
        '","dimensions":{"region":"' +
        REGIONS[Math.floor(this.random() * REGIONS.length)] +
        '","model":"' +
        MODELS[Math.floor(this.random() * MODELS.length)] +
        '"' +
        this.tail;
    }
    body += ']}';
    return { body, events: this.batchSize, quantityMilli, probeId };
  }
}

/** 12345 → "12.345", 5 → "0.005", 2000 → "2.000" (the gateway canonicalises trailing zeros). */
export function decimalFromMilli(milli: number): string {
  const whole = Math.floor(milli / 1000);
  const frac = milli - whole * 1000;
  return whole + (frac < 10 ? '.00' : frac < 100 ? '.0' : '.') + frac;
}
