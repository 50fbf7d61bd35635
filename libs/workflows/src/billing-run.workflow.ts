import {
  condition,
  continueAsNew,
  defineQuery,
  ParentClosePolicy,
  executeChild,
  setHandler,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  billingAttributes,
  PROGRESS_QUERY,
  type BillingRunInput,
  type BillingRunProgress,
  type BillingRunState,
  type DueCustomer,
  type InvoiceResult,
  type InvoiceStatus,
} from '@tally/billing-contracts';
import { billingActivities } from './billing-activities';
import { customerInvoiceWorkflow, invoiceBatchWorkflow } from './invoice.workflow';

export const billingRunProgressQuery = defineQuery<BillingRunProgress>(PROGRESS_QUERY);

const MAX_FAILURES_KEPT = 100;

function emptyCounts(): Record<InvoiceStatus, number> {
  return { issued: 0, already_issued: 0, already_closed: 0, no_subscription: 0, failed: 0 };
}

/**
 * A tenant's billing run (started by its schedule every hour): pages through the customers that have
 * subscriptions, picks those whose period ended in their own zone within the look-back window and is
 * not closed yet, and starts their invoice workflows as children, at most `maxConcurrentChildren` at
 * a time (a sliding window, far below Temporal's limit of pending children). It continues as new every
 * few pages so its history stays small; the `progress` query reports where it is.
 */
export async function billingRunWorkflow(input: BillingRunInput): Promise<BillingRunState> {
  const acts = billingActivities(input);
  const state: BillingRunState = input.state ?? {
    at: input.at ?? new Date(Date.now()).toISOString(),
    pages: 0,
    scanned: 0,
    due: 0,
    children: 0,
    counts: emptyCounts(),
    failures: [],
  };
  const perChild = Math.max(1, input.customersPerChild ?? 1);
  const window = Math.max(1, input.maxConcurrentChildren ?? 100);
  const pageSize = input.pageSize ?? 1000;
  const pagesPerRun = input.pagesPerRun ?? 5;
  const running = new Set<Promise<void>>();
  let done = false;
  setHandler(billingRunProgressQuery, () => ({
    ...state,
    tenant: input.tenant,
    running: running.size,
    done,
  }));

  const record = (results: InvoiceResult[]) => {
    for (const r of results) {
      state.counts[r.status]++;
      if (r.status === 'failed' && state.failures.length < MAX_FAILURES_KEPT) state.failures.push(r);
    }
  };
  const track = (work: Promise<void>) => {
    const p: Promise<void> = work.finally(() => running.delete(p));
    running.add(p);
  };
  const timings = { activitySeconds: input.activitySeconds, heartbeatSeconds: input.heartbeatSeconds };

  // Each child is started and awaited in its own promise, so one workflow task starts as many
  // children as the window has room for (awaiting each start in turn would start one per round trip).
  const invoiceOne = async (d: DueCustomer): Promise<void> => {
    try {
      const result = await executeChild(customerInvoiceWorkflow, {
        workflowId: `invoice/${input.tenant}/${d.customer}/${d.period}`,
        args: [
          {
            tenant: input.tenant,
            customer: d.customer,
            period: d.period,
            endsAtMs: d.endsAtMs,
            graceSeconds: input.graceSeconds,
            ...timings,
          },
        ],
        // Started again after it completed, it is refused (a no-op); after it failed, it may run again.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: billingAttributes('invoice', input.tenant, d.customer, d.period),
      });
      record([result]);
    } catch (error) {
      // Started before (by an earlier run or by hand) and running or done: that workflow owns the invoice.
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        record([
          {
            customer: d.customer,
            period: d.period,
            status: 'already_closed',
            detail: 'invoice workflow already started',
          },
        ]);
      } else {
        record([{ customer: d.customer, period: d.period, status: 'failed', detail: messageOf(error) }]);
      }
    }
  };

  const invoiceBatch = async (batch: DueCustomer[], n: number): Promise<void> => {
    try {
      record(
        await executeChild(invoiceBatchWorkflow, {
          workflowId: `${workflowInfo().workflowId}/batch-${n}`,
          args: [{ tenant: input.tenant, periods: batch, graceSeconds: input.graceSeconds, ...timings }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: billingAttributes('invoice-batch', input.tenant, undefined, batch[0].period),
        }),
      );
    } catch (error) {
      record(
        batch.map((d) => ({
          customer: d.customer,
          period: d.period,
          status: 'failed' as const,
          detail: messageOf(error),
        })),
      );
    }
  };

  let pagesThisRun = 0;
  for (;;) {
    const page = await acts.dueCustomers({
      tenant: input.tenant,
      atMs: Date.parse(state.at),
      lookbackHours: input.lookbackHours ?? 48,
      ...(state.after !== undefined ? { after: state.after } : {}),
      limit: pageSize,
    });
    state.pages++;
    pagesThisRun++;
    state.scanned += page.scanned;
    state.due += page.due.length;
    for (const group of groupsOf(page.due, perChild)) {
      await condition(() => running.size < window);
      track(perChild === 1 ? invoiceOne(group[0]) : invoiceBatch(group, state.children));
      state.children++;
    }
    state.after = page.next;
    if (page.next === undefined) break;
    if (pagesThisRun >= pagesPerRun || workflowInfo().continueAsNewSuggested) {
      // Children report to this run: let them finish before handing over to the next one.
      await condition(() => running.size === 0);
      await continueAsNew<typeof billingRunWorkflow>({ ...input, state });
    }
  }
  await condition(() => running.size === 0);
  done = true;
  return state;
}

/** Customers in groups of `size`, never mixing periods (a batch workflow closes one period). */
function groupsOf(due: DueCustomer[], size: number): DueCustomer[][] {
  if (size === 1) return due.map((d) => [d]);
  const byPeriod = new Map<string, DueCustomer[]>();
  for (const d of due) byPeriod.set(d.period, [...(byPeriod.get(d.period) ?? []), d]);
  const groups: DueCustomer[][] = [];
  for (const list of byPeriod.values())
    for (let i = 0; i < list.length; i += size) groups.push(list.slice(i, i + size));
  return groups;
}

/** `CODE: message` of a child's failure (the code is the ApplicationFailure type the rule refused with). */
function messageOf(error: unknown): string {
  const cause = (error as { cause?: { message?: string; type?: string } })?.cause;
  const message = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return cause?.type ? `${cause.type}: ${message}` : message;
}
