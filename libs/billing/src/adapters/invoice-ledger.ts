import {
  invoiceDocumentsQuery,
  invoicedCustomerCountQuery,
  invoicedCustomersQuery,
  invoiceWatermarksQuery,
  type ClickHouse,
  type InvoiceSelection,
  type InvoiceWatermarkRow,
  type SqlFragment,
} from '@tally/clickhouse';
import type { InvoiceDocument } from '../invoices/invoice';
import {
  COMPLETENESS_COLUMNS,
  documentOfRow,
  INVOICE_COLUMNS,
  serializeCompletenessRow,
  serializeInvoiceRow,
  type InvoiceRow,
} from './invoice-rows';

/**
 * The invoice ledger: append-only documents in ClickHouse (`invoices`, a ReplacingMergeTree keyed by
 * tenant, customer, period and invoice id). A document id is deterministic, so writing a document
 * again (a retried activity, a worker that died after the insert) stores the same row, which the
 * table collapses; readers use FINAL, so they never see the copy.
 */
export class InvoiceLedger {
  private pending: Array<{
    lines: Array<{ invoice: string; completeness?: string }>;
    resolve: () => void;
    reject: (error: unknown) => void;
  }> = [];
  private pendingRows = 0;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly ch: ClickHouse,
    /** Inserts arriving within this window share one INSERT (0: each its own). */
    private readonly coalesceMs = 0,
  ) {}

  private get table(): SqlFragment {
    return this.ch.table('invoices');
  }

  /**
   * Appends documents. Calls that arrive within `coalesceMs` of each other share one INSERT: with one
   * invoice workflow per customer, a worker runs many small issues at once, and one part per invoice
   * would have ClickHouse merging (and, past its parts limit, delaying inserts) all the time.
   * Every caller still returns only once its own rows are stored.
   */
  async insert(docs: readonly InvoiceDocument[]): Promise<void> {
    if (docs.length === 0) return;
    const lines = docs.map((d) => ({
      invoice: serializeInvoiceRow(d),
      completeness: serializeCompletenessRow(d),
    }));
    if (this.coalesceMs <= 0) return this.write(lines);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ lines, resolve, reject });
      this.pendingRows += lines.length;
      if (this.pendingRows >= 5_000) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.coalesceMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    this.write(batch.flatMap((b) => b.lines)).then(
      () => batch.forEach((b) => b.resolve()),
      (error: unknown) => batch.forEach((b) => b.reject(error)),
    );
  }

  private async write(lines: Array<{ invoice: string; completeness?: string }>): Promise<void> {
    // The watermarks first: a document that readers can see always has its watermark. A failure
    // between the two inserts leaves a watermark row without a document, which the retry's identical
    // rows collapse into.
    const watermarks = lines.flatMap((l) => (l.completeness ? [l.completeness] : []));
    if (watermarks.length)
      await this.ch.insertJsonEachRow(
        this.ch.table('invoice_completeness'),
        COMPLETENESS_COLUMNS,
        watermarks.join('\n'),
        {
          operation: 'insert invoice watermarks',
        },
      );
    await this.ch.insertJsonEachRow(this.table, INVOICE_COLUMNS, lines.map((l) => l.invoice).join('\n'), {
      operation: 'insert invoices',
    });
  }

  private async select(selection: InvoiceSelection, pricingOnly = false): Promise<InvoiceDocument[]> {
    const database = this.ch.database;
    const rows = await this.ch.query<InvoiceRow>(invoiceDocumentsQuery({ database, selection, pricingOnly }), {
      exactNumbers: true,
      operation: 'read invoices',
    });
    const docs = rows.map(documentOfRow);
    if (docs.length === 0) return docs;
    const watermarks = await this.ch.query<InvoiceWatermarkRow>(invoiceWatermarksQuery(database, selection), {
      operation: 'read invoice watermarks',
    });
    const byId = new Map(watermarks.map((w) => [w.invoice_id, Number(w.complete_through)]));
    for (const d of docs) {
      const seconds = byId.get(d.invoiceId);
      if (seconds) d.completeThrough = new Date(seconds * 1000).toISOString();
    }
    return docs;
  }

  async get(tenant: string, invoiceId: string): Promise<InvoiceDocument | undefined> {
    const [doc] = await this.select({ tenant, invoiceId });
    return doc;
  }

  /** A customer's documents, oldest period first, each period's invoice before its adjustments. */
  listForCustomer(tenant: string, customer: string, period?: string): Promise<InvoiceDocument[]> {
    return this.select(period === undefined ? { tenant, customer } : { tenant, customer, period });
  }

  /**
   * Every document of the given customers for one period, grouped by customer (version order).
   * `pricingOnly`: without `lines` and `usage` (empty), for readers that only re-price (simulations).
   */
  async documentsOf(
    tenant: string,
    period: string,
    customers: readonly string[],
    options: { pricingOnly?: boolean } = {},
  ): Promise<Map<string, InvoiceDocument[]>> {
    const out = new Map<string, InvoiceDocument[]>();
    if (customers.length === 0) return out;
    const docs = await this.select({ tenant, period, customers }, options.pricingOnly);
    for (const d of docs) {
      const list = out.get(d.customer) ?? [];
      list.push(d);
      out.set(d.customer, list);
    }
    return out;
  }

  /** Customers with a document for the period, in sorted order after `after` (closed periods are those). */
  async invoicedCustomers(
    tenant: string,
    period: string,
    after: string | undefined,
    limit: number,
  ): Promise<string[]> {
    const query = invoicedCustomersQuery({ database: this.ch.database, tenant, period, after, limit });
    const rows = await this.ch.query<{ customer: string }>(query, { operation: 'invoiced customers' });
    return rows.map((r) => r.customer);
  }

  /** How many customers have a document for the period. */
  async countInvoiced(tenant: string, period: string): Promise<number> {
    const [row] = await this.ch.query<{ n: string }>(
      invoicedCustomerCountQuery(this.ch.database, tenant, period),
      { operation: 'count invoiced customers' },
    );
    return Number(row?.n ?? 0);
  }
}
