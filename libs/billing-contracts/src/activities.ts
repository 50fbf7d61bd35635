/**
 * What the billing activities take and return: the contract between the workflows (which call them
 * through `proxyActivities`) and the activities (which run `@tally/billing`'s services).
 */
import type { CustomerPeriod } from '@tally/billing-periods';
import type { DeadLetterFilter, DeadLetterReplayCounts } from './inputs';

export interface PeriodRef {
  customer: string;
  period: string;
}

export interface DueCustomersRequest {
  tenant: string;
  /** The billing run's time: periods that ended in `(atMs − lookbackHours, atMs]` are due. */
  atMs: number;
  lookbackHours: number;
  /** Customers after this one (sorted order); absent = from the first. */
  after?: string;
  limit: number;
}

export interface DueCustomer extends PeriodRef {
  /** When the period ended (epoch ms): the grace window counts from here. */
  endsAtMs: number;
}

export interface DueCustomersPage {
  due: DueCustomer[];
  /** Customers looked at in this page. */
  scanned: number;
  /** Pass as `after` for the next page; absent when this was the last. */
  next?: string;
}

/** Where a closed period is: being closed (usage not yet read or invoice not yet written), or invoiced. */
export type ClosedPeriodState = 'closing' | 'invoiced';

export interface CloseRequest {
  tenant: string;
  periods: PeriodRef[];
  /** The workflow closing the periods (its id): it alone computes their invoices. */
  owner: string;
}

export type CloseOutcome =
  | (PeriodRef & { status: 'claimed'; invoiceId: string; share: CustomerPeriod })
  | (PeriodRef & { status: 'taken'; invoiceId: string; owner: string; state: ClosedPeriodState })
  | (PeriodRef & { status: 'no_subscription' });

/** How far the writers have stored a tenant's events (see `@tally/billing`'s watermark port). */
export interface WatermarkState {
  /** Last stream sequence of the tenant's events when the period closed. */
  target: number;
  /** Every message up to this sequence is stored and acknowledged by the writers. */
  ackFloor: number;
  /** No message of the tenant up to `target` is still waiting to be stored. */
  reached: boolean;
  /** The tenant's completeness watermark (ISO): every event acknowledged before it is stored. */
  completeThrough?: string;
}

export interface CloseResult {
  outcomes: CloseOutcome[];
  watermark: WatermarkState;
}

export interface IssueRequest {
  tenant: string;
  owner: string;
  periods: Array<{ customer: string; share: CustomerPeriod }>;
}

export type IssueOutcome =
  | (PeriodRef & {
      status: 'issued' | 'already_issued';
      invoiceId: string;
      totalMinor: string;
      currency: string;
    })
  | (PeriodRef & { status: 'failed'; code: string; message: string });

export interface RebillRequest extends PeriodRef {
  tenant: string;
  owner: string;
}

export type RebillOutcome =
  | { status: 'unchanged'; latestVersion: number; eventCount: string }
  | {
      status: 'adjusted';
      invoiceId: string;
      version: number;
      totalMinor: string;
      cumulativeTotalMinor: string;
      lateEventCount: number;
    };

/** Issue the interim invoice the open period's accrued amount calls for, if any. */
export interface InterimRequest extends PeriodRef {
  tenant: string;
  owner: string;
}

export type InterimOutcome =
  | {
      status: 'issued';
      invoiceId: string;
      thresholdsCrossed: string;
      totalMinor: string;
      accruedMinor: string;
    }
  /** No threshold above the last interim invoice's is reached (or that invoice is already written). */
  | { status: 'below_threshold'; thresholdsCrossed: string; accruedMinor: string }
  /** Too late for an interim invoice: the period ended or is being closed (its invoice bills the rest). */
  | { status: 'period_ended' }
  /** The customer's plans in the period have no progressive-billing setting, or no subscription. */
  | { status: 'not_progressive' };

/** Record what of a credit grant came by now (its expiries and occurrences), and when the next comes. */
export interface CreditGrantStepRequest {
  tenant: string;
  customer: string;
  grantId: string;
}

export type CreditGrantStep =
  | {
      status: 'waiting';
      /** Record ids appended now (empty when they were already there). */
      recorded: string[];
      /** The next local date something of the grant comes, and how long until it starts in the customer's zone. */
      next: string;
      waitMs: number;
    }
  /** Nothing more will come: the grant ended, was voided, has no expiry, or is gone. */
  | { status: 'done'; recorded: string[]; reason: 'ended' | 'unknown_grant' | 'unknown_customer' };

export interface ReplayPageRequest {
  tenant: string;
  replayId: string;
  filter: DeadLetterFilter;
  /** Dead-letter stream sequence to continue from. */
  fromSeq?: number;
  limit: number;
  dryRun: boolean;
}

export interface ReplayPageResult {
  counts: DeadLetterReplayCounts;
  /** Where the next page starts; absent after the last letter. */
  nextSeq?: number;
}
