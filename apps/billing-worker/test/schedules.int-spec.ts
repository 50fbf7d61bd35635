import { ScheduleNotFoundError } from '@temporalio/client';
import { BillingScheduleSync } from '@tally/billing';
import { billingWorkflowIds } from '@tally/billing-contracts';
import { randomPrefix, waitFor } from '@tally/testing';
import { BillingHarness } from './billing-harness';

describe('billing schedules follow the catalog (real Temporal and NATS)', () => {
  const h = new BillingHarness();
  let sync: BillingScheduleSync;

  beforeAll(async () => {
    await h.start();
    sync = new BillingScheduleSync(
      h.client,
      h.cache,
      { taskQueue: h.taskQueue, graceSeconds: 120, customersPerChild: 50 },
      h.logger,
    );
  });
  afterAll(async () => {
    await sync.stop();
    await h.stop();
  });

  it('keeps one hourly billing-run schedule per tenant, and deletes it with the tenant', async () => {
    const early = randomPrefix('sched').replace('_', '-');
    await h.store.putTenant({ id: early, name: 'Early', timezone: 'UTC', currency: 'USD' });
    await waitFor(async () => h.cache.getTenant(early), { what: 'tenant in cache' });
    await sync.start();
    const describe = (tenant: string) =>
      h.client.schedule.getHandle(billingWorkflowIds.schedule(tenant)).describe();
    const schedule = await describe(early);
    expect(schedule.spec.intervals).toEqual([expect.objectContaining({ every: 3_600_000 })]);
    expect(schedule.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'billingRunWorkflow',
      workflowId: billingWorkflowIds.billingRun(early),
      taskQueue: h.taskQueue,
      args: [{ tenant: early, graceSeconds: 120, customersPerChild: 50 }],
    });
    expect(schedule.policies.overlap).toBe('SKIP');
    const attributes =
      schedule.action.type === 'startWorkflow' ? schedule.action.typedSearchAttributes : undefined;
    expect(Array.isArray(attributes) ? attributes : attributes?.getAll()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ value: early }),
        expect.objectContaining({ value: 'billing-run' }),
      ]),
    );

    // A tenant created while the worker runs gets its schedule; a deleted one loses it.
    const late = randomPrefix('sched').replace('_', '-');
    await h.store.putTenant({ id: late, name: 'Late', timezone: 'UTC', currency: 'USD' });
    await waitFor(async () => describe(late).catch(() => undefined), { what: 'schedule of the new tenant' });
    await h.store.deleteTenant(early);
    await h.store.deleteTenant(late);
    for (const tenant of [early, late]) {
      await waitFor(
        async () =>
          describe(tenant).then(
            () => false,
            (e: unknown) => e instanceof ScheduleNotFoundError,
          ),
        {
          what: `schedule of ${tenant} deleted`,
        },
      );
    }
  });
});
