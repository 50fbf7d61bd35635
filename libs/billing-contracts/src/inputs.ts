/**
 * The inputs, states and results of the billing workflows: what starters pass, what continue-as-new
 * carries and what the progress queries answer.
 */

/** Timeouts and poll intervals the billing workflows give their activities (tests pass short ones). */
export interface ActivityTimings {
  /** Start-to-close of issuing invoices and recomputing adjustments. Default 120 s. */
  activitySeconds?: number;
  /** Heartbeat timeout of the watermark wait (how fast a dead worker's wait is retried). Default 30 s. */
  heartbeatSeconds?: number;
}

export interface CustomerInvoiceInput extends ActivityTimings {
  tenant: string;
  customer: string;
  /** `YYYY-MM`. */
  period: string;
  /** Wait this long after the period's end before closing it. Default 3600. */
  graceSeconds?: number;
  /** When the period ends (epoch ms), if the starter knows it (saves an activity). */
  endsAtMs?: number;
}

export interface InvoiceBatchInput extends ActivityTimings {
  tenant: string;
  periods: Array<{ customer: string; period: string; endsAtMs: number }>;
  graceSeconds?: number;
}

export type InvoiceStatus = 'issued' | 'already_issued' | 'already_closed' | 'no_subscription' | 'failed';

export interface InvoiceResult {
  customer: string;
  period: string;
  status: InvoiceStatus;
  invoiceId?: string;
  totalMinor?: string;
  currency?: string;
  /** Why it failed, or who else closes the period. */
  detail?: string;
}

export interface BillingRunInput extends ActivityTimings {
  tenant: string;
  /** The run's instant (ISO 8601). Default: when the run started (the schedule's fire time). */
  at?: string;
  /** Periods that ended within this many hours before `at` are billed. Default 48. */
  lookbackHours?: number;
  graceSeconds?: number;
  /** Customers per invoice child workflow: 1 = one `invoice/<tenant>/<customer>/<period>` each. Default 1. */
  customersPerChild?: number;
  /** Children running at once (a sliding window). Default 100. */
  maxConcurrentChildren?: number;
  /** Customers per page of the catalog. Default 1000. */
  pageSize?: number;
  /** Continue as new after this many pages. Default 5. */
  pagesPerRun?: number;
  /** Carried over continue-as-new. */
  state?: BillingRunState;
}

export interface BillingRunState {
  at: string;
  after?: string;
  pages: number;
  scanned: number;
  due: number;
  children: number;
  counts: Record<InvoiceStatus, number>;
  failures: InvoiceResult[];
}

export interface BillingRunProgress extends BillingRunState {
  tenant: string;
  running: number;
  done: boolean;
}

/** `progressiveBillingWorkflow`: interim invoices of one customer's open period. */
export interface ProgressiveBillingInput extends ActivityTimings {
  tenant: string;
  customer: string;
  period: string;
  /** End after this long without a threshold signal (the next one starts it again). Default 86400. */
  idleSeconds?: number;
  /** Continue as new after this many checks. Default 50. */
  checksPerRun?: number;
  /** Carried over continue-as-new. */
  state?: ProgressiveBillingState;
}

export interface ProgressiveBillingState {
  /** Signals received. */
  signalled: number;
  /** Times the activity evaluated the period. */
  checks: number;
  /** Interim invoices this workflow issued. */
  issued: number;
  /** A signal arrived that no check has answered yet. */
  pending: boolean;
}

/**
 * `creditGrantWorkflow`: the durable timers of one credit grant (docs/finance.md#expiry-and-recurrence-timers).
 * It records the grant's expiries and occurrences as they come, sleeping until the next one.
 */
export interface CreditGrantInput extends ActivityTimings {
  tenant: string;
  customer: string;
  grantId: string;
  /** Continue as new after this many wakes. Default 100. */
  wakesPerRun?: number;
  /** Carried over continue-as-new. */
  state?: CreditGrantState;
}

export interface CreditGrantState {
  /** Times the workflow asked what came (after each timer, and once at the start). */
  wakes: number;
  /** Record ids this workflow appended to the customer's credit ledger. */
  recorded: string[];
  /** The local date it sleeps until; absent once nothing more comes. */
  next?: string;
}

export interface RebillInput extends ActivityTimings {
  tenant: string;
  customer: string;
  period: string;
  /** Wait until no late event arrived for this long before recomputing. Default 300. */
  quietSeconds?: number;
  /** End the workflow after this long without late events (a later one starts it again). Default 86400. */
  idleSeconds?: number;
  /**
   * Longest a wave collects: late events that never pause for `quietSeconds` are billed at least this
   * often, each time in an adjustment of their own. Default 3600.
   */
  maxWaveSeconds?: number;
  /** Continue as new after this many waves. Default 20. */
  wavesPerRun?: number;
  /** Continue as new once the history has this many events (also while a wave collects). Default 1000. */
  maxHistoryEvents?: number;
  /** Carried over continue-as-new. */
  state?: RebillState;
}

export interface RebillState {
  waves: number;
  adjustments: number;
  /** Late events signalled and not billed yet. */
  pending: number;
  /** When the wave being collected started (epoch ms), if one is. */
  waveStartedAt?: number;
  /** Late events signalled in all, over every run. */
  signalled: number;
}

export interface DeadLetterFilter {
  reason?: string;
  customer?: string;
  /** First dead-letter stream sequence to look at. */
  fromSeq?: number;
}

export interface DeadLetterReplayInput extends ActivityTimings {
  tenant: string;
  replayId: string;
  filter: DeadLetterFilter;
  dryRun: boolean;
  pageSize?: number;
  pagesPerRun?: number;
  state?: DeadLetterReplayCounts & { nextSeq?: number; pages: number };
}

export interface DeadLetterReplayCounts {
  /** Letters read (of the tenant). */
  scanned: number;
  /** Letters that match the filter. */
  matched: number;
  /** Republished to the events stream (or, in a dry run, would be). */
  replayed: number;
  /** Replayed by an earlier replay: not published again. */
  alreadyReplayed: number;
  /** Still refused by today's catalog, by reason. */
  stillInvalid: Record<string, number>;
  /** No event to replay (the payload never decoded). */
  notReplayable: number;
}

export interface DeadLetterReplayProgress extends DeadLetterReplayCounts {
  tenant: string;
  replayId: string;
  dryRun: boolean;
  pages: number;
  done: boolean;
}
