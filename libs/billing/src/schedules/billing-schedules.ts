import type { Client } from '@temporalio/client';
import type { CatalogProjection } from '@tally/catalog';
import type { Logger } from '@tally/observability';
import { deleteSchedule, upsertIntervalSchedule } from '@tally/temporal';
import {
  BILLING_WORKFLOWS,
  billingAttributes,
  billingWorkflowIds,
  type BillingRunInput,
} from '@tally/billing-contracts';

export type BillingScheduleOptions = Pick<
  BillingRunInput,
  | 'graceSeconds'
  | 'lookbackHours'
  | 'customersPerChild'
  | 'maxConcurrentChildren'
  | 'pageSize'
  | 'activitySeconds'
  | 'heartbeatSeconds'
> & {
  taskQueue: string;
  /** How often each tenant's billing run fires. Default `1 hour`: customers in other zones close at other hours. */
  every?: string;
};

/**
 * Keeps one Temporal schedule per tenant (`billing/<tenant>`) in line with the catalog: created or
 * updated for every tenant at start-up and whenever a tenant is written, deleted when the tenant is.
 * Each firing starts `billingRunWorkflow` for the tenant; since a customer's period ends at its own
 * local midnight, the run fires hourly and bills whoever's period ended since (within the look-back).
 */
export class BillingScheduleSync {
  private unsubscribe?: () => void;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly catalog: CatalogProjection,
    private readonly options: BillingScheduleOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = this.catalog.onChange((change) => {
      if (change.kind !== 'tenant') return;
      const tenant = change.id;
      this.enqueue(() => (change.value ? this.upsert(tenant) : this.remove(tenant)));
    });
    for (const tenant of this.catalog.listTenants()) await this.upsert(tenant.id);
  }

  /** Resolves once the changes seen so far are applied (tests, shutdown). */
  async settled(): Promise<void> {
    await this.queue;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue;
  }

  private enqueue(work: () => Promise<void>): void {
    // One change at a time, in order: a tenant created then deleted must end without a schedule.
    this.queue = this.queue
      .then(work)
      .catch((error: unknown) => this.logger.error({ err: error }, 'billing schedule sync failed'));
  }

  private async upsert(tenant: string): Promise<void> {
    const input: BillingRunInput = {
      tenant,
      ...(this.options.graceSeconds !== undefined ? { graceSeconds: this.options.graceSeconds } : {}),
      ...(this.options.lookbackHours !== undefined ? { lookbackHours: this.options.lookbackHours } : {}),
      ...(this.options.customersPerChild !== undefined
        ? { customersPerChild: this.options.customersPerChild }
        : {}),
      ...(this.options.maxConcurrentChildren !== undefined
        ? { maxConcurrentChildren: this.options.maxConcurrentChildren }
        : {}),
      ...(this.options.pageSize !== undefined ? { pageSize: this.options.pageSize } : {}),
      ...(this.options.activitySeconds !== undefined
        ? { activitySeconds: this.options.activitySeconds }
        : {}),
      ...(this.options.heartbeatSeconds !== undefined
        ? { heartbeatSeconds: this.options.heartbeatSeconds }
        : {}),
    };
    const outcome = await upsertIntervalSchedule(this.client, {
      scheduleId: billingWorkflowIds.schedule(tenant),
      every: this.options.every ?? '1 hour',
      workflowType: BILLING_WORKFLOWS.billingRun,
      workflowId: billingWorkflowIds.billingRun(tenant),
      taskQueue: this.options.taskQueue,
      args: [input],
      searchAttributes: billingAttributes('billing-run', tenant),
    });
    this.logger.info(
      { tenant, schedule: billingWorkflowIds.schedule(tenant), outcome },
      'billing schedule in place',
    );
  }

  private async remove(tenant: string): Promise<void> {
    await deleteSchedule(this.client, billingWorkflowIds.schedule(tenant));
    this.logger.info({ tenant, schedule: billingWorkflowIds.schedule(tenant) }, 'billing schedule deleted');
  }
}
