import { ApplicationFailure, sleep, workflowInfo } from '@temporalio/workflow';
import type { CustomerInvoiceInput, InvoiceBatchInput, InvoiceResult } from '@tally/billing-contracts';
import { billingActivities } from './billing-activities';

const DEFAULT_GRACE_SECONDS = 3600;

async function sleepUntil(epochMs: number): Promise<void> {
  const wait = epochMs - Date.now();
  if (wait > 0) await sleep(wait);
}

/**
 * Closes periods and issues their invoices (one activity: claim, watermark, then usage, pricing and
 * the ledger). Whoever claimed a period first (this workflow or another) is the only one to invoice it.
 */
async function invoicePeriods(
  input: { tenant: string } & Pick<CustomerInvoiceInput, 'activitySeconds' | 'heartbeatSeconds'>,
  periods: Array<{ customer: string; period: string }>,
): Promise<InvoiceResult[]> {
  const acts = billingActivities(input);
  const owner = workflowInfo().workflowId;
  const { close, issued } = await acts.closeAndIssue({ tenant: input.tenant, periods, owner });
  const results = new Map<string, InvoiceResult>();
  for (const o of close.outcomes) {
    if (o.status === 'taken') {
      results.set(o.customer, {
        customer: o.customer,
        period: o.period,
        status: 'already_closed',
        invoiceId: o.invoiceId,
        detail: `closed by ${o.owner} (${o.state})`,
      });
    } else if (o.status === 'no_subscription') {
      results.set(o.customer, { customer: o.customer, period: o.period, status: 'no_subscription' });
    }
  }
  for (const o of issued) {
    results.set(
      o.customer,
      o.status === 'failed'
        ? { customer: o.customer, period: o.period, status: 'failed', detail: `${o.code}: ${o.message}` }
        : {
            customer: o.customer,
            period: o.period,
            status: o.status,
            invoiceId: o.invoiceId,
            totalMinor: o.totalMinor,
            currency: o.currency,
          },
    );
  }
  return periods.map((p) => results.get(p.customer) as InvoiceResult);
}

/**
 * One customer's invoice for one period: `invoice/<tenant>/<customer>/<period>`. Waits for the grace
 * window after the period's end (late events that arrive within it are simply part of the invoice),
 * then closes the period, waits for the writer's watermark and issues the invoice. Started again, it
 * finds the period closed and returns without writing anything.
 */
export async function customerInvoiceWorkflow(input: CustomerInvoiceInput): Promise<InvoiceResult> {
  const ref = { customer: input.customer, period: input.period };
  let endsAtMs = input.endsAtMs;
  if (endsAtMs === undefined) {
    const [described] = await billingActivities(input).describePeriods(input.tenant, [ref]);
    if (!described) return { ...ref, status: 'no_subscription' };
    endsAtMs = described.endsAtMs;
  }
  await sleepUntil(endsAtMs + (input.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000);
  const [result] = await invoicePeriods(input, [ref]);
  if (result.status === 'failed') {
    const [code, ...message] = (result.detail ?? 'BILLING_REJECTED: ').split(': ');
    throw ApplicationFailure.nonRetryable(message.join(': '), code);
  }
  return result;
}

/**
 * The invoices of several customers (of one tenant) in one workflow: what a billing run starts when
 * it bills customers in batches for throughput. Each customer's outcome is reported; one customer's
 * rejection does not fail the others.
 */
export async function invoiceBatchWorkflow(input: InvoiceBatchInput): Promise<InvoiceResult[]> {
  const endsAtMs = Math.max(0, ...input.periods.map((p) => p.endsAtMs));
  await sleepUntil(endsAtMs + (input.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000);
  return invoicePeriods(
    input,
    input.periods.map((p) => ({ customer: p.customer, period: p.period })),
  );
}
