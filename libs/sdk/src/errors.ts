import type { IngestKind, TallyDataPoint, TallyEvent } from './types';

/** One failing field, as the gateway reports it in a 422 `VALIDATION_FAILED` body. */
export interface FieldIssue {
  /** Position of the event in the rejected batch (`error.items[index]`); absent for request-level issues. */
  index?: number;
  /** Dotted path of the failing field, e.g. `timestamp` or `dimensions.region`. */
  field: string;
  /** Stable machine code such as `TIMESTAMP_IN_FUTURE` (docs/events.md lists them). */
  code: string;
  message: string;
}

/** Base of every error the SDK raises or reports: a stable `code`, and the `cause` when there is one. */
export class TallySdkError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The client options are invalid; `issues` names every bad option at once. */
export class TallyConfigError extends TallySdkError {
  constructor(readonly issues: string[]) {
    super('INVALID_OPTIONS', `Invalid Tally client options: ${issues.join('; ')}`);
  }
}

/**
 * Thrown synchronously by `record()` / `writeDataPoint()` for an input the gateway would certainly
 * reject. Checking here keeps one bad event from getting a whole batch rejected later (a batch is
 * atomic on the gateway). The codes are the gateway's own where one exists.
 */
export class TallyValidationError extends TallySdkError {
  constructor(
    code: string,
    readonly field: string,
    message: string,
  ) {
    super(code, message);
  }
}

/**
 * The gateway refused a batch for good (422, 401, 403, 413, 415, any other 4xx but 408/429): it is
 * reported to `onError` and never retried, because sending the same bytes again cannot succeed.
 * A batch is atomic, so `items` holds every event of the batch; `details[].index` points into it.
 */
export class TallyRejectedError extends TallySdkError {
  constructor(
    /** HTTP status (over NATS: the reply's `Tally-Status`). */
    readonly status: number,
    code: string,
    message: string,
    readonly details: FieldIssue[],
    readonly kind: IngestKind,
    readonly items: ReadonlyArray<TallyEvent | TallyDataPoint>,
    /** The data set, for rejected data points. */
    readonly dataset?: string,
  ) {
    super(code, message);
  }
}

/** A response that asks for a retry (429, 503, other 5xx, 408), kept as the cause when retries run out. */
export class TallyUnavailableError extends TallySdkError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(code, message);
  }
}

/** Every attempt failed with a retryable error; `cause` is the last one. Handed to `onDrop`. */
export class TallyDeliveryError extends TallySdkError {
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      'RETRIES_EXHAUSTED',
      `Batch not delivered after ${attempts} attempt(s): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
