import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  simulationCsvHeader,
  simulationCsvRows,
  type SimulationResultsPort,
  type Simulator,
} from '@tally/billing';
import {
  BILLING_WORKFLOWS,
  billingAttributes,
  billingWorkflowIds,
  PROGRESS_QUERY,
  type CustomerSimulation,
  type SimulationInput,
  type SimulationProgress,
  type SimulationSpec,
  type SimulationSummary,
} from '@tally/billing-contracts';
import { NotFoundError, ValidationFailedError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import { z } from 'zod';

const charge = z.object({ id: z.string() }).passthrough();

const change = z.union([
  z.object({ plan: z.string().min(1).max(256), draft: z.object({}).passthrough() }).strict(),
  z
    .object({
      plan: z.string().min(1).max(256),
      patch: z
        .object({
          name: z.string().max(256).optional(),
          minimumCommitment: z.string().nullable().optional(),
          maximum: z.string().nullable().optional(),
          charges: z.array(charge).max(100).optional(),
          removeCharges: z.array(z.string()).max(100).optional(),
        })
        .strict(),
    })
    .strict(),
]);

export const simulationRequestSchema = z
  .object({
    periods: z.array(z.string()).min(1).max(24),
    customers: z
      .union([
        z.literal('all'),
        z.object({ ids: z.array(z.string().min(1).max(256)).min(1).max(100_000) }).strict(),
        z
          .object({
            filter: z.object({ plan: z.string().optional(), timezone: z.string().optional() }).strict(),
          })
          .strict(),
      ])
      .default('all'),
    changes: z.array(change).min(1).max(20),
    /** `auto` (default): direct up to the direct limit, a workflow above it. */
    mode: z.enum(['auto', 'direct', 'workflow']).default('auto'),
  })
  .strict();

export type SimulationAnswer =
  | (SimulationSummary & { mode: 'direct'; results: CustomerSimulation[] })
  | {
      mode: 'workflow';
      simulationId: string;
      workflowId: string;
      expected: number;
      status: string;
      csv: string;
    };

export type SimulationStatus = SimulationProgress & {
  workflowStatus: string;
  results?: CustomerSimulation[];
  /** Cursor of the next results page (`?after=`), when there are more. */
  next?: string;
};

const ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Price simulations for the query API: small ones (up to `directLimit` customer-periods) are computed
 * here and answered at once; larger ones run as `simulationWorkflow` on the billing worker, whose
 * progress and stored results this service reads. Always within the caller's tenant.
 */
export class SimulationService {
  constructor(
    private readonly simulator: Pick<Simulator, 'validate' | 'count' | 'run'>,
    private readonly results: SimulationResultsPort,
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly directLimit = 1000,
    private readonly newId: () => string = () => randomUUID(),
  ) {}

  parse(tenant: string, body: unknown): { spec: SimulationSpec; mode: 'auto' | 'direct' | 'workflow' } {
    const parsed = simulationRequestSchema.safeParse(body ?? {});
    if (!parsed.success)
      throw new ValidationFailedError(fieldIssuesFromZod(parsed.error), 'Invalid simulation request');
    const { periods, customers, changes, mode } = parsed.data;
    const spec = {
      tenant,
      periods,
      customers: customers === 'all' ? { all: true as const } : customers,
      changes,
    } as SimulationSpec;
    this.simulator.validate(spec);
    return { spec, mode };
  }

  async create(tenant: string, body: unknown): Promise<SimulationAnswer> {
    const { spec, mode } = this.parse(tenant, body);
    const expected = await this.simulator.count(spec);
    if (mode === 'direct' && expected > this.directLimit) {
      throw new ValidationFailedError([
        {
          field: 'mode',
          code: 'TOO_LARGE_FOR_DIRECT',
          message: `${expected} customer-periods: more than ${this.directLimit} run as a workflow (mode 'workflow' or 'auto')`,
        },
      ]);
    }
    if (mode === 'direct' || (mode === 'auto' && expected <= this.directLimit)) {
      return { mode: 'direct', ...(await this.simulator.run(spec)) };
    }
    const simulationId = this.newId();
    const workflowId = billingWorkflowIds.simulation(tenant, simulationId);
    const input: SimulationInput = { spec, simulationId };
    await this.client.workflow.start(BILLING_WORKFLOWS.simulation, {
      taskQueue: this.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: billingAttributes('simulation', tenant),
    });
    const self = `/v1/simulations/${simulationId}`;
    return { mode: 'workflow', simulationId, workflowId, expected, status: self, csv: `${self}.csv` };
  }

  /** Progress while it runs; once done, the summary and a page of results (`after`: a previous `next`). */
  async status(tenant: string, simulationId: string, after?: string, limit = 100): Promise<SimulationStatus> {
    const { progress, workflowStatus } = await this.progress(tenant, simulationId);
    if (workflowStatus !== 'COMPLETED') return { ...progress, workflowStatus };
    const cursor = after === undefined ? undefined : decodeCursor(after);
    const results = await this.results.read(tenant, simulationId, cursor, limit);
    const last = results[results.length - 1];
    return {
      ...progress,
      workflowStatus,
      results,
      ...(results.length === limit && last ? { next: encodeCursor(last.period, last.customer) } : {}),
    };
  }

  /** Every stored result as CSV (after the workflow completed). */
  async csv(tenant: string, simulationId: string): Promise<string> {
    const { workflowStatus } = await this.progress(tenant, simulationId);
    if (workflowStatus !== 'COMPLETED')
      throw new ValidationFailedError([
        {
          field: 'simulationId',
          code: 'SIMULATION_NOT_DONE',
          message: `the simulation is ${workflowStatus.toLowerCase()}`,
        },
      ]);
    const parts = [simulationCsvHeader()];
    let cursor: { period: string; customer: string } | undefined;
    for (;;) {
      const page = await this.results.read(tenant, simulationId, cursor, 5000);
      parts.push(simulationCsvRows(page));
      const last = page[page.length - 1];
      if (page.length < 5000 || !last) break;
      cursor = { period: last.period, customer: last.customer };
    }
    return parts.join('');
  }

  /** CSV of a direct answer (`POST ...?format=csv`). */
  directCsv(results: readonly CustomerSimulation[]): string {
    return simulationCsvHeader() + simulationCsvRows(results);
  }

  private async progress(
    tenant: string,
    simulationId: string,
  ): Promise<{ progress: SimulationProgress; workflowStatus: string }> {
    if (!ID.test(simulationId)) throw new NotFoundError('Simulation', simulationId);
    const handle = this.client.workflow.getHandle(billingWorkflowIds.simulation(tenant, simulationId));
    try {
      const description = await handle.describe();
      const workflowStatus = description.status.name;
      const progress =
        workflowStatus === 'COMPLETED'
          ? ((await handle.result()) as SimulationProgress)
          : await handle.query<SimulationProgress>(PROGRESS_QUERY);
      return { progress, workflowStatus };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new NotFoundError('Simulation', simulationId);
      throw error;
    }
  }
}

function encodeCursor(period: string, customer: string): string {
  return Buffer.from(JSON.stringify([period, customer])).toString('base64url');
}

function decodeCursor(after: string): { period: string; customer: string } {
  try {
    const [period, customer] = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as unknown[];
    if (typeof period === 'string' && typeof customer === 'string') return { period, customer };
  } catch {
    // reported below
  }
  throw new ValidationFailedError([
    { field: 'after', code: 'INVALID_CURSOR', message: 'use the `next` of a previous page' },
  ]);
}
