import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { Client } from '@temporalio/client';
import type { ClickHouse } from '@tally/clickhouse';
import { env, infraConfig, loadConfig, type ConfigOf } from '@tally/config';
import { PRINCIPAL_RESOLVER, type PrincipalResolver } from '@tally/nest-kit';
import { connectTemporal } from '@tally/temporal';
import type { NatsConnection, NatsNames } from '@tally/nats';
import {
  CreditNotesController,
  CreditsController,
  DeadLettersController,
  InvoicesController,
  SimulationsController,
} from './billing-api.controllers';
import { CreditBalanceService } from './credit-balance.service';
import { CreditNoteService } from './credit-note.service';
import { DeadLetterReplayService } from './dead-letter-replay.service';
import {
  ClickHouseUsageSource,
  InvoiceLedger,
  loadPaymentExportConfig,
  paymentExporterFromConfig,
  PricingSnapshots,
  SimulationResultStore,
  Simulator,
  UsageLoader,
  type BillingCatalogPort,
  type MeterVersionsPort,
  type PaymentExportConfig,
} from '@tally/billing';
import { SimulationService } from './simulation.service';
import { PaymentExportService } from './payment-export.service';
import { ChromiumPdfRenderer, type PdfRenderer } from './documents/chromium-pdf';
import { PDF_RENDERER } from './documents/document-format';
import { InvoiceReadService } from './invoice-read.service';

/** What the billing API reads from the environment when the app does not pass a Temporal client. */
export const billingApiConfigSpec = {
  temporalAddress: infraConfig.temporalAddress,
  temporalNamespace: infraConfig.temporalNamespace,
  taskQueue: env.string('TALLY_TASK_QUEUE', 'tally-billing', 'task queue of the billing worker'),
};

/** Simulations answered directly up to this many customer-periods (larger ones run as a workflow). */
export const simulationConfigSpec = {
  directLimit: env.int(
    'TALLY_SIMULATION_DIRECT_LIMIT',
    1000,
    0,
    1_000_000,
    'customer-periods a simulation answers directly (more run as a workflow)',
  ),
};

/** The invoice PDF renderer (docs/documents.md#invoice-pdf). */
export const invoicePdfConfigSpec = {
  chromium: env.string(
    'INVOICE_PDF_CHROMIUM',
    'chromium',
    'Chromium binary printing invoice PDFs (a path or a name in PATH)',
  ),
  timeoutMs: env.int(
    'INVOICE_PDF_TIMEOUT_MS',
    30_000,
    1_000,
    300_000,
    'longest one PDF may take to print (503 PDF_RENDER_TIMEOUT beyond)',
  ),
  concurrency: env.int(
    'INVOICE_PDF_CONCURRENCY',
    2,
    1,
    64,
    'PDFs printed at once (one Chromium process each)',
  ),
  maxQueued: env.int(
    'INVOICE_PDF_MAX_QUEUED',
    16,
    0,
    10_000,
    'PDF requests that may wait for a slot (503 PDF_RENDERER_BUSY beyond)',
  ),
};

function chromiumPdfRenderer(config: ConfigOf<typeof invoicePdfConfigSpec>): PdfRenderer {
  return new ChromiumPdfRenderer({ ...config, binary: config.chromium });
}

export interface BillingApiDependencies {
  clickhouse: ClickHouse;
  /**
   * The catalog as the process sees it: customers' credit ledgers for `/v1/customers/:id/credits`, and
   * for simulations the meters a plan change adds.
   */
  cache?: BillingCatalogPort;
  /** Meter versions invoices name (simulations; with `cache`). */
  store?: MeterVersionsPort;
  /** Resolves API keys for the guard; apps with a global resolver may leave it out. */
  keys?: PrincipalResolver;
  /** The Temporal client and the billing worker's queue; read from the environment when absent. */
  temporal?: { client: Client; taskQueue: string };
  /** Prints invoice PDFs; headless Chromium configured from the environment when absent. */
  pdf?: PdfRenderer;
  /** NATS, for the payment export ledger (`PAYMENT_EXPORT_PROVIDER`); without it exports are off. */
  nc?: NatsConnection;
  names?: NatsNames;
}

const TEMPORAL = Symbol('BILLING_TEMPORAL');

/** Closes the Temporal connection the module opened itself. */
@Injectable()
class BillingApiRuntime implements OnApplicationShutdown {
  constructor(@Inject(TEMPORAL) private readonly temporal: { close?: () => Promise<void> }) {}

  async onApplicationShutdown(): Promise<void> {
    await this.temporal.close?.();
  }
}

/** The Temporal client, and the billing worker's task queue replays and simulations start workflows on. */
type TemporalQueue = { client: Client; taskQueue: string };

/** The module's own lazy Temporal connection, from the environment (the app passed no client). */
async function connectOwnTemporal() {
  const config = loadConfig('billing API', billingApiConfigSpec);
  const temporal = await connectTemporal({
    address: config.temporalAddress,
    namespace: config.temporalNamespace,
    lazy: true,
  });
  return { ...temporal, taskQueue: config.taskQueue };
}

/** Invoices, credit notes, dead-letter replay, invoice PDFs and payment exports: served in every setup. */
function documentProviders(
  deps: BillingApiDependencies,
  pdf: PdfRenderer,
  payments: PaymentExportConfig,
): Provider[] {
  return [
    {
      provide: InvoiceReadService,
      useFactory: () => new InvoiceReadService(new InvoiceLedger(deps.clickhouse)),
    },
    {
      provide: CreditNoteService,
      useFactory: () => new CreditNoteService(new InvoiceLedger(deps.clickhouse)),
    },
    {
      provide: TEMPORAL,
      useFactory: async () =>
        deps.temporal
          ? { client: deps.temporal.client, taskQueue: deps.temporal.taskQueue }
          : connectOwnTemporal(),
    },
    {
      provide: DeadLetterReplayService,
      useFactory: (t: TemporalQueue) => new DeadLetterReplayService(t.client, t.taskQueue),
      inject: [TEMPORAL],
    },
    { provide: PDF_RENDERER, useValue: pdf },
    {
      provide: PaymentExportService,
      useFactory: async () => {
        const { nc, names } = deps;
        const exporter =
          nc && names
            ? await paymentExporterFromConfig(payments, {
                nc,
                names,
                documents: new InvoiceLedger(deps.clickhouse),
              })
            : undefined;
        return new PaymentExportService(exporter);
      },
    },
  ];
}

/** Plan-change simulations: priced like invoices, over the catalog cache and the meter versions. */
function simulationProvider(
  deps: BillingApiDependencies & { cache: BillingCatalogPort; store: MeterVersionsPort },
  simulation: ConfigOf<typeof simulationConfigSpec>,
): Provider {
  const { cache, store } = deps;
  return {
    provide: SimulationService,
    useFactory: (t: TemporalQueue) => {
      const simulator = new Simulator({
        ledger: new InvoiceLedger(deps.clickhouse),
        catalog: cache,
        pricing: new PricingSnapshots(cache, store),
        usage: new UsageLoader(new ClickHouseUsageSource(deps.clickhouse)),
      });
      const results = new SimulationResultStore(deps.clickhouse);
      return new SimulationService(simulator, results, t.client, t.taskQueue, simulation.directLimit);
    },
    inject: [TEMPORAL],
  };
}

/**
 * Invoices (`GET /v1/customers/:id/invoices`, `GET /v1/invoices/:id[.html|.pdf]`) and dead-letter replay
 * (`POST /v1/dead-letters/replay`, `GET /v1/dead-letters/replays/:id`) for the query service.
 * Without a Temporal client it connects lazily (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
 * `TALLY_TASK_QUEUE`, validated when the module is registered), so the query service starts and serves
 * invoices while Temporal is down.
 */
@Module({})
export class BillingApiModule {
  static register(deps: BillingApiDependencies): DynamicModule {
    // Bad settings fail the boot here, listing every bad key (not at the first replay request).
    if (!deps.temporal) loadConfig('billing API', billingApiConfigSpec);
    const simulation = loadConfig('billing API', simulationConfigSpec);
    const pdf = deps.pdf ?? chromiumPdfRenderer(loadConfig('billing API', invoicePdfConfigSpec));
    const payments = loadPaymentExportConfig('billing API');
    const providers: Provider[] = [...documentProviders(deps, pdf, payments), BillingApiRuntime];
    const controllers: Array<new (...args: never[]) => unknown> = [
      InvoicesController,
      CreditNotesController,
      DeadLettersController,
    ];
    if (deps.cache) {
      const cache = deps.cache;
      providers.push({
        provide: CreditBalanceService,
        useFactory: () => new CreditBalanceService(cache, new InvoiceLedger(deps.clickhouse)),
      });
      controllers.push(CreditsController);
    }
    if (deps.cache && deps.store) {
      providers.push(simulationProvider({ ...deps, cache: deps.cache, store: deps.store }, simulation));
      controllers.push(SimulationsController);
    }
    if (deps.keys) providers.push({ provide: PRINCIPAL_RESOLVER, useValue: deps.keys });
    return { module: BillingApiModule, controllers, providers };
  }
}
