import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { billingWorkflowIds, type BillingRunState } from '@tally/billing-contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createBillingActivities, createEchoActivities } from '@tally/activities';
import {
  ClosedPeriodStore,
  DeadLetterReplayer,
  billingAdapters,
  createBillingServices,
  InvoiceLedger,
  type BillingServices,
  RebillNoticeConsumer,
  TemporalRebillTrigger,
  type InvoiceDocument,
  type RebillOptions,
} from '@tally/billing';
import {
  CatalogProjection,
  CatalogStore,
  deleteBillingBucket,
  deleteCatalogBuckets,
  type CustomerInput,
  type SubscriptionInput,
} from '@tally/catalog';
import { insertEvents, sql, type EventRow } from '@tally/clickhouse';
import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import {
  connectNats,
  deleteStreams,
  ensureStreams,
  natsNames,
  type NatsConnection,
  type NatsNames,
} from '@tally/nats';
import { createLogger } from '@tally/observability';
import { workflowBundlerHook, workflowsPath } from '@tally/temporal';
import {
  randomPrefix,
  testNatsUrl,
  testStreamLimits,
  testTemporalAddress,
  waitFor,
  workspaceRoot,
  testNatsAuth,
} from '@tally/testing';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

try {
  // The SDK's own INFO lines (worker state changes) would drown the test output.
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed by another test file of this process.
}

/** The workflow bundle, built once per test file (webpack takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath,
    webpackConfigHook: workflowBundlerHook(),
    logger: quietBundlerLogger,
  });
  return bundle;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string, meta?: Record<string, unknown>) =>
    process.stderr.write(`${message} ${JSON.stringify(meta ?? {})}\n`),
};

/** Short timings for tests: a dead worker's activities are retried within seconds. */
export const testTimings = { activitySeconds: 10, heartbeatSeconds: 3 };

/**
 * Billing against the real servers, isolated: its own NATS prefix (streams, catalog and billing
 * buckets), ClickHouse database, Temporal task queue and random tenant ids. The worker runs in this
 * process unless a test spawns the real `apps/billing-worker` (`workerEnv()`).
 */
export class BillingHarness {
  names!: NatsNames;
  nc!: NatsConnection;
  db!: TestDatabase;
  store!: CatalogStore;
  cache!: CatalogProjection;
  /** The same projection as `cache` (plans and subscriptions), named for what billing reads of it. */
  subscriptions!: CatalogProjection;
  closed!: ClosedPeriodStore;
  billing!: BillingServices;
  ledger!: InvoiceLedger;
  client!: Client;
  taskQueue = randomPrefix('tq');
  private connection!: Connection;
  private native?: NativeConnection;
  worker?: Worker;
  private workerRun?: Promise<void>;
  private notices?: RebillNoticeConsumer;
  readonly logger = createLogger('billing-test', process.env.LOG_LEVEL ?? 'warn');

  private owned = true;

  temporalAddress = testTemporalAddress();

  /**
   * With `shared`, uses another harness's prefix and database (which that harness cleans up); with
   * `temporalAddress`, a Temporal server of the test's own instead of the shared one.
   */
  async start(shared?: { names: NatsNames; db: TestDatabase }, temporalAddress?: string): Promise<this> {
    if (temporalAddress) this.temporalAddress = temporalAddress;
    this.owned = !shared;
    this.names = shared?.names ?? natsNames(randomPrefix('t'));
    this.nc = await connectNats(testNatsUrl(), 'billing-harness', testNatsAuth());
    await ensureStreams(this.nc, this.names, testStreamLimits);
    this.db = shared?.db ?? (await createTestDatabase());
    this.store = await CatalogStore.open(this.nc, this.names);
    this.cache = await CatalogProjection.open(this.nc, this.names);
    this.subscriptions = this.cache;
    this.closed = await ClosedPeriodStore.open(this.nc, this.names);
    this.ledger = new InvoiceLedger(this.db.client, 50);
    this.billing = createBillingServices({
      ...billingAdapters({
        clickhouse: this.db.client,
        nc: this.nc,
        names: this.names,
        catalog: this.cache,
        store: this.store,
        closed: this.closed,
        logger: this.logger,
      }),
      ledger: this.ledger,
    });
    this.connection = await Connection.connect({ address: this.temporalAddress });
    this.client = new Client({ connection: this.connection });
    return this;
  }

  /** Environment for a real `apps/billing-worker` process on this harness's queue, prefix and database. */
  workerEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      NATS_URL: testNatsUrl(),
      TEMPORAL_ADDRESS: this.temporalAddress,
      TALLY_NATS_PREFIX: this.names.prefix,
      CLICKHOUSE_DATABASE: this.db.database,
      TALLY_TASK_QUEUE: this.taskQueue,
      BILLING_SCHEDULES: 'false',
      LOG_LEVEL: 'warn',
      ...extra,
    };
  }

  /**
   * Runs a worker in this process until `stopWorker()`, with the billing worker's consumer of
   * late-event notices (rebills with `rebill`'s settings; a quiet window of 2 s unless told).
   */
  async startWorker(
    rebill: RebillOptions & { maxHistoryEvents?: number } = { quietSeconds: 2 },
    noticesPerPull = 500,
  ): Promise<Worker> {
    this.native ??= await NativeConnection.connect({ address: this.temporalAddress });
    const replayer = new DeadLetterReplayer(this.nc, this.names, this.cache, this.closed.kv, this.logger);
    const worker = await Worker.create({
      connection: this.native,
      taskQueue: this.taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...createEchoActivities({ workerName: 'test' }),
        ...createBillingActivities({ billing: this.billing, replayer, watermarkPollMs: 50 }),
      },
    });
    this.worker = worker;
    this.workerRun = worker.run();
    this.notices = new RebillNoticeConsumer(
      this.nc,
      this.names,
      new TemporalRebillTrigger(this.client, this.taskQueue, rebill),
      this.logger,
      { retryMinMs: 100, retryMaxMs: 1_000, batch: noticesPerPull },
    );
    await this.notices.start();
    return worker;
  }

  async stopWorker(): Promise<void> {
    await this.notices?.stop();
    this.notices = undefined;
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.workerRun;
    this.worker = undefined;
  }

  /**
   * With `TALLY_RECORD_HISTORIES=1`, saves the workflow's event history to
   * `libs/workflows/src/__histories__/<name>.json`, which `replay.spec.ts` replays against the current
   * workflow code: a change that breaks determinism then fails CI.
   */
  async recordHistory(workflowId: string, name: string, runId?: string): Promise<void> {
    if (!process.env.TALLY_RECORD_HISTORIES) return;
    const history = await this.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const dir = path.join(workspaceRoot, 'libs/workflows/src/__histories__');
    mkdirSync(dir, { recursive: true });
    const json = temporal.api.history.v1.History.toObject(
      temporal.api.history.v1.History.fromObject(history),
      {
        longs: String,
        enums: String,
        bytes: String,
      },
    );
    writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(json, null, 1)}\n`);
  }

  // ------------------------------------------------------------------------------------ catalog

  /** A tenant with the three meters and the plan of the billing tests. */
  async tenant(
    settings: { id?: string; timezone?: string; requireKnownCustomers?: boolean } = {},
  ): Promise<string> {
    const tenant = settings.id ?? randomPrefix('acme').replace('_', '-');
    if (!(await this.store.getTenant(tenant)))
      await this.store.putTenant({
        id: tenant,
        name: tenant,
        timezone: settings.timezone ?? 'UTC',
        currency: 'USD',
        latenessLimitDays: 3650,
        rateLimitPerSecond: 100_000,
        requireKnownCustomers: settings.requireKnownCustomers ?? false,
      });
    await this.store.putMeter({
      tenant,
      key: 'calls',
      name: 'API calls',
      eventTypes: ['call'],
      aggregation: 'count',
    });
    await this.store.putMeter({
      tenant,
      key: 'tokens',
      name: 'Tokens',
      eventTypes: ['completion'],
      aggregation: 'sum',
      valueProperty: 'tokens',
    });
    await this.store.putMeter({
      tenant,
      key: 'storage',
      name: 'Peak storage (GB)',
      eventTypes: ['storage'],
      aggregation: 'max',
      valueProperty: 'gb',
    });
    await this.store.putPlan({
      tenant,
      id: 'pro',
      name: 'Pro',
      currency: 'USD',
      charges: [
        { id: 'base', name: 'Platform fee', kind: 'flat', amount: '10' },
        {
          id: 'calls',
          name: 'API calls',
          kind: 'per_unit',
          meter: 'calls',
          unitPrice: '0.05',
          freeUnits: '2',
        },
        {
          id: 'tokens',
          name: 'Tokens',
          kind: 'graduated',
          meter: 'tokens',
          tiers: [
            { upTo: '1000', unitPrice: '0.001' },
            { upTo: null, unitPrice: '0.0005' },
          ],
        },
        { id: 'storage', name: 'Peak storage', kind: 'per_unit', meter: 'storage', unitPrice: '1' },
      ],
    });
    await waitFor(
      async () => this.cache.getMeter(tenant, 'storage') && this.subscriptions.getPlan(tenant, 'pro'),
      {
        what: 'catalog to reach the caches',
      },
    );
    return tenant;
  }

  async customer(
    input: CustomerInput,
    subscription?: Omit<SubscriptionInput, 'tenant' | 'customer' | 'plan' | 'id'> & { id?: string },
  ): Promise<void> {
    await this.store.putCustomer(input);
    if (subscription) {
      await this.store.putSubscription({
        tenant: input.tenant,
        customer: input.id,
        plan: 'pro',
        id: subscription.id ?? `sub-${input.id}`,
        ...subscription,
      });
    }
    await waitFor(
      async () =>
        this.cache.hasCustomer(input.tenant, input.id) &&
        (!subscription || this.subscriptions.subscriptionsOf(input.tenant, input.id).length > 0),
      { what: 'customer to reach the caches' },
    );
  }

  /** Inserts events straight into ClickHouse (as the writer stores them). */
  async events(
    tenant: string,
    events: Array<{
      customer: string;
      type: string;
      at: string;
      properties?: Record<string, string>;
      id?: string;
    }>,
  ): Promise<string[]> {
    const rows: EventRow[] = events.map((e) => {
      const ms = Date.parse(e.at);
      return {
        tenant,
        customer: e.customer,
        eventType: e.type,
        ts: Math.floor(ms / 1000),
        tsMs: ms % 1000,
        eventId: e.id ?? randomUUID(),
        quantity: '1',
        properties: e.properties ?? {},
        source: 'test',
        schemaVersion: '1',
        requestId: '',
        receivedAt: Math.floor(ms / 1000),
        payloadHash: 'h',
      };
    });
    await insertEvents(this.db.client, this.db.database, rows);
    return rows.map((r) => r.eventId);
  }

  /** Runs one billing run of `tenant` at `at` on the harness's task queue and returns its end state. */
  async runBilling(tenant: string, at: string): Promise<BillingRunState> {
    return (await this.client.workflow.execute('billingRunWorkflow', {
      taskQueue: this.taskQueue,
      workflowId: `${billingWorkflowIds.billingRun(tenant)}-${randomPrefix('r')}`,
      args: [{ tenant, at, graceSeconds: 0, ...testTimings }],
    })) as BillingRunState;
  }

  async documents(tenant: string, customer: string, period?: string): Promise<InvoiceDocument[]> {
    return this.ledger.listForCustomer(tenant, customer, period);
  }

  /** Raw rows of `invoices` (without FINAL) per document id: how often each was written. */
  async rawRowCounts(tenant: string): Promise<Record<string, number>> {
    const rows = await this.db.client.query<{ invoice_id: string; n: string }>(
      sql`SELECT invoice_id, count() AS n FROM ${this.db.client.table('invoices')} WHERE tenant = ${tenant} GROUP BY invoice_id`,
    );
    return Object.fromEntries(rows.map((r) => [r.invoice_id, Number(r.n)]));
  }

  async stop(): Promise<void> {
    await this.stopWorker().catch(() => undefined);
    await this.native?.close();
    await this.connection?.close();
    await this.cache?.close();
    await deleteBillingBucket(this.nc, this.names);
    const jsm = await jetstreamManager(this.nc).catch(() => undefined);
    for (const bucket of [this.names.billingBucket, this.names.alertStateBucket])
      await jsm?.streams.delete(`KV_${bucket}`).catch(() => undefined);
    if (this.owned) {
      await deleteStreams(this.nc, this.names).catch(() => undefined);
      await deleteCatalogBuckets(this.nc, this.names);
      await this.db?.drop();
    }
    await this.nc?.close();
  }
}
