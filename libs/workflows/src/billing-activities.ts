import { proxyActivities } from '@temporalio/workflow';
import type { BillingActivities } from '@tally/activities';
import type { ActivityTimings } from '@tally/billing-contracts';

/** The billing activities with the timeouts a workflow's input asks for (tests pass short ones). */
export function billingActivities(timings: ActivityTimings = {}) {
  const activitySeconds = timings.activitySeconds ?? 120;
  const heartbeatSeconds = timings.heartbeatSeconds ?? 30;
  const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };
  const quick = proxyActivities<BillingActivities>({
    startToCloseTimeout: `${activitySeconds} seconds`,
    retry,
  });
  // The watermark wait can last as long as the writer is behind; the heartbeat notices a dead worker
  // (issuing, after the wait, heartbeats too: with the watermark state it reached).
  const waiting = proxyActivities<BillingActivities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: `${heartbeatSeconds} seconds`,
    retry,
  });
  return {
    dueCustomers: quick.dueCustomers,
    describePeriods: quick.describePeriods,
    issueInvoices: quick.issueInvoices,
    rebill: quick.rebill,
    issueInterim: quick.issueInterim,
    creditGrantStep: quick.creditGrantStep,
    replayDeadLetterPage: quick.replayDeadLetterPage,
    countSimulation: quick.countSimulation,
    simulatePage: quick.simulatePage,
    closePeriods: waiting.closePeriods,
    closeAndIssue: waiting.closeAndIssue,
  };
}
