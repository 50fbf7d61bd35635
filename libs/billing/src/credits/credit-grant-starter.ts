import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  BILLING_WORKFLOWS,
  billingAttributes,
  billingWorkflowIds,
  type ActivityTimings,
  type CreditGrantInput,
} from '@tally/billing-contracts';
import type { CatalogChange, CatalogProjection, Customer } from '@tally/catalog';
import type { Logger } from '@tally/observability';

export interface CreditGrantRef {
  tenant: string;
  customer: string;
  grantId: string;
}

/** Port: starts a grant's timer workflow unless it runs or ran (Temporal in production). */
export interface CreditGrantTrigger {
  start(ref: CreditGrantRef): Promise<'started' | 'already_started'>;
}

/**
 * Starts `credit-grant/<tenant>/<customer>/<grant>`. ALLOW_DUPLICATE_FAILED_ONLY: a running or completed
 * workflow is not started again (its records are in the ledger; a new run would find them and append
 * nothing anyway), a failed one is.
 */
export class TemporalCreditGrantTrigger implements CreditGrantTrigger {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly options: ActivityTimings = {},
  ) {}

  async start(ref: CreditGrantRef): Promise<'started' | 'already_started'> {
    const input: CreditGrantInput = { ...ref, ...this.options };
    try {
      await this.client.workflow.start(BILLING_WORKFLOWS.creditGrant, {
        taskQueue: this.taskQueue,
        workflowId: billingWorkflowIds.creditGrant(ref.tenant, ref.customer, ref.grantId),
        args: [input],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        typedSearchAttributes: billingAttributes('credit-grant', ref.tenant, ref.customer),
      });
      return 'started';
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already_started';
      throw error;
    }
  }
}

/** The grants of a customer that have a timer to run: an expiry date or a recurrence. */
export function timedGrants(customer: Pick<Customer, 'billing'>): string[] {
  return (customer.billing?.credits ?? []).flatMap((e) =>
    e.type === 'grant' && (e.expires !== undefined || e.recurrence !== undefined) ? [e.id] : [],
  );
}

/**
 * The billing worker's starter of grant timers: a grant written through the API
 * (`POST /v1/customers/:id/credits/entries`) or `catalog apply` shows up in the catalog projection, and
 * its `creditGrantWorkflow` is started. At start-up every timed grant of every tenant is started (what
 * was written while no worker ran); then each customer change. Starting is idempotent (the workflow id
 * is the grant's), so several workers, a restart or a change seen twice start nothing twice; a start
 * that failed (Temporal unreachable) is tried again at the customer's next change or the next start-up.
 */
export class CreditGrantStarter {
  private readonly seen = new Set<string>();
  private unsubscribe?: () => void;
  private pending = Promise.resolve();

  constructor(
    private readonly catalog: Pick<CatalogProjection, 'listTenants' | 'listCustomers' | 'onChange'>,
    private readonly trigger: CreditGrantTrigger,
    private readonly logger: Logger,
  ) {}

  /** Starts every timed grant now, then follows the catalog. */
  async start(): Promise<void> {
    this.unsubscribe = this.catalog.onChange((change) => this.onChange(change));
    for (const t of this.catalog.listTenants())
      for (const c of this.catalog.listCustomers(t.id)) await this.startGrants(t.id, c);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.pending;
  }

  /** Waits for the starts of the changes seen so far (tests). */
  settled(): Promise<void> {
    return this.pending;
  }

  private onChange(change: CatalogChange): void {
    if (change.kind !== 'customer' || !change.value) return;
    const customer = change.value;
    this.pending = this.pending.then(() => this.startGrants(change.tenant, customer));
  }

  private async startGrants(tenant: string, customer: Customer): Promise<void> {
    for (const grantId of timedGrants(customer)) {
      const key = billingWorkflowIds.creditGrant(tenant, customer.id, grantId);
      if (this.seen.has(key)) continue;
      try {
        const outcome = await this.trigger.start({ tenant, customer: customer.id, grantId });
        this.seen.add(key);
        if (outcome === 'started')
          this.logger.info({ tenant, customer: customer.id, grantId }, 'credit grant timers started');
      } catch (error) {
        this.logger.error(
          { err: error, tenant, customer: customer.id, grantId },
          'could not start the credit grant timers (tried again at the next change or start-up)',
        );
      }
    }
  }
}
