/**
 * Price simulations over HTTP, on the real query service: the controller's answers (direct JSON and
 * CSV, refusals with their codes and fields, 404, roles). The simulation itself against real invoices
 * and the workflow are in apps/billing-worker/test/simulation.int-spec.ts.
 */
import { Client, Connection } from '@temporalio/client';
import { randomPrefix, testTemporalAddress } from '@tally/testing';
import { QueryHarness } from './query-harness';

describe('query service: POST /v1/simulations', () => {
  const h = new QueryHarness();
  let acme: Awaited<ReturnType<QueryHarness['tenant']>>;
  const request = { periods: ['2026-10'], customers: 'all', changes: [{ plan: 'pro', patch: {} }] };

  // A task queue no worker polls: a workflow started here waits, and is terminated by the test.
  const taskQueue = randomPrefix('sim');

  beforeAll(async () => {
    await h.start({ TALLY_TASK_QUEUE: taskQueue });
    acme = await h.tenant('acme');
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers a small simulation directly, as JSON or CSV (a period without invoices: nothing simulated)', async () => {
    const json = await h.request('POST', '/v1/simulations', { key: acme.admin, body: request });
    expect(json).toMatchObject({
      status: 200,
      body: {
        mode: 'direct',
        counts: { scanned: 0, simulated: 0, usageChanged: 0, notInvoiced: 0 },
        totals: [],
        results: [],
      },
    });
    const csv = await h.request('POST', '/v1/simulations?format=csv', {
      key: acme.admin,
      body: { ...request, customers: { ids: ['a'] } },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.body).toBe(
      'customer,period,status,currency,row,subscription,charge_id,name,quantity_billed,quantity_simulated,billed,simulated,difference\r\n',
    );
  });

  it('refuses bad requests with a stable code and the failing fields, unknown simulations with 404, other roles with 403', async () => {
    const bad = await h.request('POST', '/v1/simulations', {
      key: acme.admin,
      body: {
        periods: ['2026-13'],
        changes: [{ plan: 'pro', draft: { id: 'pro', currency: 'USD', charges: [] } }],
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(JSON.stringify(bad.body)).toContain('periods[0]');
    const unknownField = await h.request('POST', '/v1/simulations', {
      key: acme.admin,
      body: { ...request, extra: 1 },
    });
    expect(unknownField.status).toBe(422);
    const unknownMeter = await h.request('POST', '/v1/simulations', {
      key: acme.admin,
      body: {
        ...request,
        changes: [
          {
            plan: 'pro',
            patch: { charges: [{ id: 'x', name: 'X', kind: 'per_unit', meter: 'nope', unitPrice: '1' }] },
          },
        ],
      },
    });
    expect(unknownMeter).toMatchObject({ status: 422, body: { error: { code: 'UNKNOWN_METER' } } });
    expect((await h.request('GET', '/v1/simulations/no-such-simulation', { key: acme.admin })).status).toBe(
      404,
    );
    expect((await h.request('POST', '/v1/simulations', { key: acme.query, body: request })).status).toBe(403);
  });

  it('starts a workflow for a large one (202) with its id and links', async () => {
    const started = await h.request('POST', '/v1/simulations', {
      key: acme.admin,
      body: { ...request, mode: 'workflow' },
    });
    expect(started).toMatchObject({
      status: 202,
      body: { mode: 'workflow', expected: 0, workflowId: expect.stringMatching(/^simulation\/acme\//) },
    });
    const body = started.body as { workflowId: string; simulationId: string; status: string; csv: string };
    expect(body.status).toBe(`/v1/simulations/${body.simulationId}`);
    expect(body.csv).toBe(`/v1/simulations/${body.simulationId}.csv`);
    const connection = await Connection.connect({ address: testTemporalAddress() });
    try {
      const handle = new Client({ connection }).workflow.getHandle(body.workflowId);
      expect((await handle.describe()).taskQueue).toBe(taskQueue);
      await handle.terminate('test done');
    } finally {
      await connection.close();
    }
  });
});
