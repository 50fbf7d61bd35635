export * from './echo.activities';
export * from './billing.activities';
export * from './billing-metrics';
// The contracts workflows are written against (types only: workflows import nothing else from here).
export type {
  ActivityTimings,
  BillingRunInput,
  BillingRunProgress,
  BillingRunState,
  CloseOutcome,
  CloseResult,
  CustomerInvoiceInput,
  DeadLetterFilter,
  DeadLetterReplayCounts,
  DeadLetterReplayInput,
  DeadLetterReplayProgress,
  DueCustomer,
  DueCustomersPage,
  InvoiceBatchInput,
  InvoiceResult,
  InvoiceStatus,
  IssueOutcome,
  RebillInput,
  RebillOutcome,
  RebillState,
  ReplayPageResult,
} from '@tally/billing';
