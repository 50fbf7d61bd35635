import { SimulationResultStore } from '@tally/billing';
import { SimulationService } from '@tally/billing-api';
import {
  billingWorkflowIds,
  type BillingRunState,
  type SimulationProgress,
  type SimulationSpec,
} from '@tally/billing-contracts';
import { sql } from '@tally/clickhouse';
import { randomPrefix } from '@tally/testing';
import { BillingHarness, testTimings } from './billing-harness';
import { EXPECTED_TOTALS, OCTOBER, RUN_AT, seedOctober } from './scenario';

describe('price simulations (real Temporal, NATS and ClickHouse)', () => {
  const h = new BillingHarness();
  let tenant: string;

  beforeAll(async () => {
    await h.start();
    await h.startWorker();
    tenant = await h.tenant();
    await seedOctober(h, tenant);
    const run = await h.client.workflow.start('billingRunWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `${billingWorkflowIds.billingRun(tenant)}-${randomPrefix('r')}`,
      args: [{ tenant, at: RUN_AT, graceSeconds: 0, ...testTimings }],
    });
    expect(((await run.result()) as BillingRunState).counts.issued).toBe(3);
  });
  afterAll(async () => {
    await h.stop();
  });

  const ledgerRows = async () =>
    h.db.client.query<{ n: string }>(
      sql`SELECT toString(count()) AS n FROM ${h.db.client.table('invoices')} WHERE tenant = ${tenant}`,
    );

  const unchanged = (): SimulationSpec => ({
    tenant,
    periods: [OCTOBER],
    customers: { all: true },
    changes: [{ plan: 'pro', patch: {} }],
  });

  it('under the unchanged plan: the simulated amount equals the billed amount for every customer, to the cent, on the very events billed', async () => {
    const before = await ledgerRows();
    const result = await h.billing.simulator.run(unchanged());
    expect(result.results.map((r) => [r.customer, r.status, r.billedMinor, r.simulatedMinor])).toEqual(
      Object.entries(EXPECTED_TOTALS).map(([c, total]) => [c, 'simulated', total, total]),
    );
    for (const r of result.results) {
      const [invoice] = await h.documents(tenant, r.customer);
      expect(r.fingerprint.priced).toEqual(invoice.fingerprint);
      expect(
        r.lines.every((l) => l.differenceMinor === '0' && l.quantityBilled === l.quantitySimulated),
      ).toBe(true);
    }
    expect(await ledgerRows()).toEqual(before);
  });

  it('as a workflow: progress, stored results, CSV; a draft plan priced per line; nothing in the ledger', async () => {
    const before = await ledgerRows();
    const service = new SimulationService(
      h.billing.simulator,
      new SimulationResultStore(h.db.client),
      h.client,
      h.taskQueue,
      0,
    );
    // Calls at $0.10 after 2 free instead of $0.05; everything else as billed.
    const answer = await service.create(tenant, {
      periods: [OCTOBER],
      changes: [
        {
          plan: 'pro',
          patch: {
            charges: [
              {
                id: 'calls',
                name: 'API calls',
                kind: 'per_unit',
                meter: 'calls',
                unitPrice: '0.10',
                freeUnits: '2',
              },
            ],
          },
        },
      ],
    });
    expect(answer).toMatchObject({ mode: 'workflow', expected: 3 });
    if (answer.mode !== 'workflow') throw new Error('expected a workflow');
    const handle = h.client.workflow.getHandle(answer.workflowId);
    const done = (await handle.result()) as SimulationProgress;
    expect(done.counts).toEqual({ scanned: 3, simulated: 3, usageChanged: 0, notInvoiced: 0 });
    // a: 3 billable calls → +0.15; b: none billable; c: 1 → +0.05.
    expect(done.totals).toEqual([
      { currency: 'USD', customers: 3, billedMinor: '3581', simulatedMinor: '3601', differenceMinor: '20' },
    ]);
    const status = await service.status(tenant, answer.simulationId, undefined, 2);
    expect(status.workflowStatus).toBe('COMPLETED');
    expect(status.results?.map((r) => [r.customer, r.differenceMinor])).toEqual([
      ['a', '15'],
      ['b', '0'],
    ]);
    const rest = await service.status(tenant, answer.simulationId, status.next, 2);
    expect(rest.results?.map((r) => [r.customer, r.differenceMinor])).toEqual([['c', '5']]);
    expect(rest.next).toBeUndefined();
    const csv = (await service.csv(tenant, answer.simulationId)).split('\r\n');
    expect(csv[0]).toBe(
      'customer,period,status,currency,row,subscription,charge_id,name,quantity_billed,quantity_simulated,billed,simulated,difference',
    );
    expect(csv).toContain(`a,${OCTOBER},simulated,USD,total,,,,,,18.40,18.55,0.15`);
    expect(csv).toContain(`a,${OCTOBER},simulated,USD,line,sub-a,calls,API calls,5,5,0.15,0.30,0.15`);
    expect(await ledgerRows()).toEqual(before);

    // Small enough: answered directly.
    const direct = await new SimulationService(
      h.billing.simulator,
      new SimulationResultStore(h.db.client),
      h.client,
      h.taskQueue,
      10,
    ).create(tenant, {
      periods: [OCTOBER],
      customers: { ids: ['a', 'nobody'] },
      changes: [{ plan: 'pro', patch: {} }],
    });
    expect(direct).toMatchObject({ mode: 'direct', counts: { simulated: 1, notInvoiced: 1 } });
  });

  it('refuses a bad request with the failing fields (no workflow started)', async () => {
    const service = new SimulationService(
      h.billing.simulator,
      new SimulationResultStore(h.db.client),
      h.client,
      h.taskQueue,
    );
    await expect(service.create(tenant, { periods: ['2026-1'], changes: [] })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: expect.arrayContaining([expect.objectContaining({ field: 'changes' })]),
    });
    await expect(
      service.create(tenant, {
        periods: [OCTOBER],
        changes: [{ plan: 'pro', draft: { id: 'pro', currency: 'USD', charges: 'x' } }],
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
