/**
 * How billing workflows are named, identified, signalled and queried: one definition shared by the
 * workflows, the activities, the worker and every starter (the billing worker's rebill notices, the query
 * API, the schedules).
 */

/** Workflow type names (the exported function names in `@tally/workflows`). */
export const BILLING_WORKFLOWS = {
  customerInvoice: 'customerInvoiceWorkflow',
  invoiceBatch: 'invoiceBatchWorkflow',
  billingRun: 'billingRunWorkflow',
  rebill: 'rebillWorkflow',
  deadLetterReplay: 'deadLetterReplayWorkflow',
  simulation: 'simulationWorkflow',
  progressiveBilling: 'progressiveBillingWorkflow',
  creditGrant: 'creditGrantWorkflow',
} as const;

/**
 * Signal of `progressiveBillingWorkflow`: the accrued amount of the open period reached a threshold
 * (the number of thresholds reached; the activity re-evaluates, so the number is a hint).
 */
export const THRESHOLD_CROSSED_SIGNAL = 'thresholdCrossed';

/**
 * Signal of `rebillWorkflow`: how many more late events (a number). Ids (a string array, counted) are
 * still accepted from older writers and from operators signalling by hand.
 */
export const LATE_EVENTS_SIGNAL = 'lateEvents';
/** Query of the billing run, the dead-letter replay and the simulation. */
export const PROGRESS_QUERY = 'progress';

/**
 * Workflow ids. `invoice/...` is started with ALLOW_DUPLICATE_FAILED_ONLY: starting it again once it
 * ran is refused (a no-op), unless it failed; `rebill/...` is signalled with start.
 */
export const billingWorkflowIds = {
  customerInvoice: (tenant: string, customer: string, period: string) =>
    `invoice/${tenant}/${customer}/${period}`,
  rebill: (tenant: string, customer: string, period: string) => `rebill/${tenant}/${customer}/${period}`,
  billingRun: (tenant: string) => `billing-run/${tenant}`,
  schedule: (tenant: string) => `billing/${tenant}`,
  deadLetterReplay: (tenant: string, replayId: string) => `dead-letter-replay/${tenant}/${replayId}`,
  simulation: (tenant: string, simulationId: string) => `simulation/${tenant}/${simulationId}`,
  /** One per open period of a progressive customer, signalled with start: it serialises the interim invoices. */
  progressiveBilling: (tenant: string, customer: string, period: string) =>
    `progressive/${tenant}/${customer}/${period}`,
  /** One per credit grant with an expiry or a recurrence: its durable timers. */
  creditGrant: (tenant: string, customer: string, grant: string) =>
    `credit-grant/${tenant}/${customer}/${grant}`,
};
