/**
 * The demo against the real stack: the four services started here on random ports, with their own
 * NATS prefix, ClickHouse database, Temporal task queue and tenant, on the shared NATS, ClickHouse and
 * Temporal. Every expected amount below is computed by hand from tools/demo/scenario.ts's plans.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import {
  freePort,
  randomPrefix,
  startService,
  testNatsUrl,
  testTemporalAddress,
  waitFor,
  workspaceRoot,
  type ServiceProcess,
  testNatsEnv,
} from '@tally/testing';

const id = randomPrefix('demo');
const tenant = id.replace('_', '-');
const dataDir = mkdtempSync(path.join(tmpdir(), 'tally-demo-'));
const temporalCli = path.join(homedir(), 'go/bin/temporal');

interface Doc {
  invoiceId: string;
  kind: string;
  totalMinor: string;
  cumulativeTotalMinor: string;
  lateEventCount: number;
}
interface Summary {
  period: string;
  billingRun: { workflowId: string; result: { counts: Record<string, number> } };
  sql: Array<{ title: string; rows: Array<Record<string, string>> }>;
}

describe('npm start demo (real gateway, writer, query, billing worker)', () => {
  const services: ServiceProcess[] = [];
  const ports: Record<string, number> = {};
  let env: Record<string, string>;

  beforeAll(async () => {
    for (const p of ['GATEWAY_PORT', 'QUERY_PORT', 'WRITER_PORT', 'BILLING_WORKER_INTERNAL_PORT'])
      ports[p] = await freePort();
    env = {
      NATS_URL: testNatsUrl(),
      TALLY_NATS_PREFIX: id,
      CLICKHOUSE_DATABASE: id,
      TALLY_TASK_QUEUE: id,
      TEMPORAL_ADDRESS: testTemporalAddress(),
      TALLY_DEMO_TENANT: tenant,
      TALLY_DATA_DIR: dataDir,
      // The shared Temporal keeps schedules by tenant id; the demo starts its billing run itself.
      BILLING_SCHEDULES: 'false',
      BILLING_REBILL_QUIET_SECONDS: '2',
      WRITER_FLUSH_INTERVAL_MS: '100',
      LOG_LEVEL: 'warn',
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    for (const app of ['gateway', 'writer', 'query', 'billing-worker']) services.push(startService(app, env));
    for (const [i, port] of [
      ports.GATEWAY_PORT,
      ports.WRITER_PORT,
      ports.QUERY_PORT,
      ports.BILLING_WORKER_INTERNAL_PORT,
    ].entries()) {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok, {
        timeoutMs: 90_000,
        what: `health of service ${i}\n${services[i].output()}`,
      });
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    // Rebill workflows wait a day for more late events: end this tenant's on the shared server.
    try {
      execFileSync(
        temporalCli,
        [
          'workflow',
          'terminate',
          '--address',
          testTemporalAddress(),
          '--query',
          `TallyTenant="${tenant}" AND ExecutionStatus="Running"`,
          '--reason',
          'test done',
          '--yes',
        ],
        { stdio: 'pipe' },
      );
    } catch {
      // nothing running
    }
  });

  async function runDemo(name: string): Promise<{ summary: Summary; output: string; seconds: number }> {
    const summaryFile = path.join(dataDir, `${name}.json`);
    const started = Date.now();
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/demo/demo.ts'], {
      cwd: workspaceRoot,
      env: {
        ...process.env,
        ...testNatsEnv(),
        ...env,
        TALLY_DEMO_SUMMARY: summaryFile,
        SWC_NODE_PROJECT: path.join(workspaceRoot, 'tsconfig.base.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0)
      throw new Error(`demo exited with ${code}:\n${output}\n${services.map((s) => s.output()).join('\n')}`);
    return {
      summary: JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary,
      output,
      seconds: (Date.now() - started) / 1000,
    };
  }

  const key = () => readFileSync(path.join(dataDir, 'demo-api-key'), 'utf8').trim();
  async function documents(customer: string, period: string): Promise<Doc[]> {
    const res = await fetch(
      `http://127.0.0.1:${ports.QUERY_PORT}/v1/customers/${customer}/invoices?period=${period}`,
      {
        headers: { authorization: `Bearer ${key()}` },
      },
    );
    expect(res.status).toBe(200);
    return ((await res.json()) as { invoices: Doc[] }).invoices;
  }

  /** Workflows of the tenant as the Temporal CLI lists them, with their search attributes decoded. */
  function listedWorkflows(): Array<{
    id: string;
    type: string;
    status: string;
    attrs: Record<string, string>;
  }> {
    const out = execFileSync(
      temporalCli,
      [
        'workflow',
        'list',
        '--address',
        testTemporalAddress(),
        '--query',
        `TallyTenant="${tenant}"`,
        '-o',
        'json',
      ],
      { encoding: 'utf8' },
    );
    const rows = JSON.parse(out) as Array<{
      execution: { workflowId: string };
      type: { name: string };
      status: string;
      searchAttributes: { indexedFields: Record<string, { data: string }> };
    }>;
    return rows.map((r) => ({
      id: r.execution.workflowId,
      type: r.type.name,
      status: r.status,
      attrs: Object.fromEntries(
        Object.entries(r.searchAttributes.indexedFields)
          .filter(([k]) => k.startsWith('Tally'))
          .map(([k, v]) => [k, JSON.parse(Buffer.from(v.data, 'base64').toString('utf8')) as string]),
      ),
    }));
  }

  // By hand, from the plans:
  //   acme    (starter): $49 flat + 600 calls: 100 free, 500 × $0.01 = $5.00          → $54.00
  //   globex  (starter): $49 flat + 1,500 calls: 100 free, 900 × $0.01 + 500 × $0.005 → $49 + $9 + $2.50 = $60.50
  //   initech (scale):   30,000 tokens: 10,000 × $0.001 + 20,000 × $0.0005 = $20, minimum $100 → $100.00
  //   late: 25 more calls for acme, all in the $0.01 tier → adjustment $0.25, $54.25 in all
  const expected: Record<string, string> = { acme: '5400', globex: '6050', initech: '10000' };

  it("bills last month through the billing run, adjusts a late event, answers the seeds' SQL; a second run adds nothing", async () => {
    const first = await runDemo('first');
    const { period } = first.summary;
    const ny = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'America/New_York',
      year: 'numeric',
      month: '2-digit',
    }).format(new Date());
    const [y, m] = ny.split('-').map(Number);
    expect(period).toBe(m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`);
    console.log(`demo: first run ${first.seconds} s, period ${period}`);
    expect(first.seconds).toBeLessThan(120);

    // One invoice per customer, the expected totals; acme's late events in one adjustment.
    for (const [customer, total] of Object.entries(expected)) {
      const docs = await documents(customer, period);
      const invoices = docs.filter((d) => d.kind === 'invoice');
      expect(invoices).toHaveLength(1);
      expect(invoices[0].totalMinor).toBe(total);
      const adjustments = docs.filter((d) => d.kind === 'adjustment');
      if (customer === 'acme') {
        expect(adjustments).toHaveLength(1);
        expect(adjustments[0]).toMatchObject({
          totalMinor: '25',
          cumulativeTotalMinor: '5425',
          lateEventCount: 25,
        });
      } else {
        expect(adjustments).toHaveLength(0);
      }
    }
    expect(first.summary.billingRun.result.counts).toMatchObject({ issued: 3, failed: 0 });

    // The billing run and the three invoice workflows, listed by the Temporal CLI with their attributes.
    const runId = `billing-run/${tenant}/demo-${period}`;
    const listed = await waitFor(
      async () => {
        const rows = listedWorkflows();
        return rows.some((r) => r.id === runId) &&
          rows.filter((r) => r.type === 'customerInvoiceWorkflow').length === 3
          ? rows
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, what: 'the Temporal CLI to list the billing workflows' },
    );
    expect(listed.find((r) => r.id === runId)).toMatchObject({
      type: 'billingRunWorkflow',
      status: 'WORKFLOW_EXECUTION_STATUS_COMPLETED',
      attrs: { TallyTenant: tenant, TallyKind: 'billing-run', TallyPeriod: period },
    });
    for (const customer of Object.keys(expected)) {
      expect(listed.find((r) => r.id === `invoice/${tenant}/${customer}/${period}`)).toMatchObject({
        type: 'customerInvoiceWorkflow',
        status: 'WORKFLOW_EXECUTION_STATUS_COMPLETED',
        attrs: { TallyTenant: tenant, TallyCustomer: customer, TallyPeriod: period, TallyKind: 'invoice' },
      });
    }
    expect(listed.find((r) => r.id === `rebill/${tenant}/acme/${period}`)).toMatchObject({
      attrs: { TallyKind: 'rebill', TallyCustomer: 'acme' },
    });

    // The seeds' queries, as the SQL API answered them: 40 + 25 + 10 data points, never sampled.
    const [perCustomer, perEndpoint, bill, daily] = first.summary.sql.map((q) => q.rows);
    expect(perCustomer).toEqual([
      { customer_id: 'acme', count: '40' },
      { customer_id: 'globex', count: '25' },
      { customer_id: 'initech', count: '10' },
    ]);
    expect(perEndpoint).toEqual([
      { customer_id: 'acme', request_endpoint: '/export', count: '5' },
      { customer_id: 'acme', request_endpoint: '/render', count: '15' },
      { customer_id: 'acme', request_endpoint: '/search', count: '20' },
      { customer_id: 'globex', request_endpoint: '/render', count: '13' },
      { customer_id: 'globex', request_endpoint: '/search', count: '12' },
      { customer_id: 'initech', request_endpoint: '/export', count: '10' },
    ]);
    expect(bill).toEqual([
      { customer_id: 'acme', request_endpoint: '/export', usage_count: '5' },
      { customer_id: 'acme', request_endpoint: '/render', usage_count: '15' },
      { customer_id: 'acme', request_endpoint: '/search', usage_count: '20' },
    ]);
    // Points n = 0..39 fall on day 2 + n % 26: day 2 gets n = 0 (/search) and n = 26 (/render).
    expect(daily[0]).toEqual({
      customer_id: 'acme',
      date: `${period}-02 00:00:00`,
      request_endpoint: '/render',
      request_count: '1',
    });
    expect(daily[1]).toEqual({
      customer_id: 'acme',
      date: `${period}-02 00:00:00`,
      request_endpoint: '/search',
      request_count: '1',
    });

    // Again: the same ids, the same documents, no new workflow.
    const before = Object.fromEntries(
      await Promise.all(Object.keys(expected).map(async (c) => [c, await documents(c, period)])),
    );
    const second = await runDemo('second');
    expect(second.output).toContain('already ran');
    for (const customer of Object.keys(expected))
      expect(await documents(customer, period)).toEqual(before[customer]);
    const again = listedWorkflows();
    expect(again.filter((r) => r.type === 'customerInvoiceWorkflow')).toHaveLength(3);
    expect(again.filter((r) => r.type === 'billingRunWorkflow')).toHaveLength(1);
    expect(second.summary.sql[0].rows).toEqual(perCustomer);
  }, 300_000);
});
