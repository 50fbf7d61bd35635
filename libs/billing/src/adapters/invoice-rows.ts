/**
 * A document as a row of ClickHouse's `invoices` table and back (migrations `0005_invoices`, `0007`):
 * the JSONEachRow lines the ledger inserts and the document a row reads as (the SELECTs are
 * `invoiceDocumentsQuery` and `invoiceWatermarksQuery` of `@tally/clickhouse`).
 */
import { creditNoteNumber } from '../invoices/document-ids';
import type { DocumentKind, InvoiceDocument } from '../invoices/invoice';

/** Columns of `invoices` an insert names (see migration `0005_invoices`). */
export const INVOICE_COLUMNS = [
  'subtotal_minor',
  'total_minor',
  'cumulative_total_minor',
  'usage_event_count',
  'usage_checksum',
  'tenant',
  'customer',
  'period',
  'invoice_id',
  'kind',
  'version',
  'references_invoice_id',
  'currency',
  'lines',
  'effective_lines',
  'usage',
  'pricing',
  'late_event_count',
  'timezone',
  'period_start',
  'period_end',
  'issued_by',
  'created_at',
] as const;

const INTEGER = /^-?\d{1,38}$/;

function bareInteger(name: string, value: string): string {
  if (!INTEGER.test(value))
    throw new Error(`invoice ${name} must be an integer string, got ${JSON.stringify(value)}`);
  return value.replace(/^(-?)0+(?=\d)/, '$1');
}

/**
 * One JSONEachRow line. Money (Decimal(38, 0)) and the UInt64 fingerprint go out as bare digits: 18.16
 * refuses quoted decimals, and a JSON number built by `JSON.stringify` would pass through a double.
 */
export function serializeInvoiceRow(d: InvoiceDocument): string {
  const head =
    `{"subtotal_minor":${bareInteger('subtotalMinor', d.subtotalMinor)}` +
    `,"total_minor":${bareInteger('totalMinor', d.totalMinor)}` +
    `,"cumulative_total_minor":${bareInteger('cumulativeTotalMinor', d.cumulativeTotalMinor)}` +
    `,"usage_event_count":${bareInteger('eventCount', d.fingerprint.eventCount)}` +
    `,"usage_checksum":${bareInteger('checksum', d.fingerprint.checksum)}`;
  const rest = JSON.stringify({
    tenant: d.tenant,
    customer: d.customer,
    period: d.period,
    invoice_id: d.invoiceId,
    kind: d.kind,
    version: d.version,
    references_invoice_id: d.referencesInvoiceId,
    currency: d.currency,
    lines: JSON.stringify(d.lines),
    effective_lines: JSON.stringify(d.effectiveLines),
    usage: JSON.stringify(d.usage),
    pricing: JSON.stringify(storedPricing(d)),
    late_event_count: d.lateEventCount,
    timezone: d.timezone,
    period_start: Math.floor(Date.parse(d.periodStart) / 1000),
    period_end: Math.floor(Date.parse(d.periodEnd) / 1000),
    issued_by: d.issuedBy,
    created_at: Math.floor(Date.parse(d.createdAt) / 1000),
  });
  return `${head},${rest.slice(1)}`;
}

/** The `invoice_completeness` line of a document (migration `0007`), or undefined when it has no watermark. */
export function serializeCompletenessRow(d: InvoiceDocument): string | undefined {
  if (d.completeThrough === undefined) return undefined;
  return JSON.stringify({
    tenant: d.tenant,
    customer: d.customer,
    period: d.period,
    invoice_id: d.invoiceId,
    // Seconds, rounded down: the watermark only ever claims less than it knows.
    complete_through: Math.floor(Date.parse(d.completeThrough) / 1000),
  });
}

export const COMPLETENESS_COLUMNS = [
  'tenant',
  'customer',
  'period',
  'invoice_id',
  'complete_through',
] as const;

/** A row of `invoiceDocumentsQuery` (`@tally/clickhouse`). */
export interface InvoiceRow {
  tenant: string;
  customer: string;
  period: string;
  invoice_id: string;
  kind: DocumentKind;
  version: string;
  references_invoice_id: string;
  currency: string;
  subtotal_minor: string;
  total_minor: string;
  cumulative_total_minor: string;
  lines: string;
  effective_lines: string;
  usage: string;
  pricing: string;
  usage_event_count: string;
  usage_checksum: string;
  late_event_count: string;
  timezone: string;
  period_start: string;
  period_end: string;
  issued_by: string;
  created_at: string;
}

export function documentOfRow(r: InvoiceRow): InvoiceDocument {
  const doc = rowDocument(r);
  return { ...doc, ...creditNoteNumberOf(doc) };
}

function rowDocument(r: InvoiceRow): InvoiceDocument {
  const iso = (seconds: string) => new Date(Number(seconds) * 1000).toISOString();
  return {
    tenant: r.tenant,
    customer: r.customer,
    period: r.period,
    invoiceId: r.invoice_id,
    kind: r.kind,
    version: Number(r.version),
    referencesInvoiceId: r.references_invoice_id,
    currency: r.currency,
    subtotalMinor: r.subtotal_minor,
    totalMinor: r.total_minor,
    cumulativeTotalMinor: r.cumulative_total_minor,
    lines: JSON.parse(r.lines),
    effectiveLines: JSON.parse(r.effective_lines),
    usage: JSON.parse(r.usage),
    ...fromStoredPricing(r.pricing),
    fingerprint: { eventCount: r.usage_event_count, checksum: r.usage_checksum },
    lateEventCount: Number(r.late_event_count),
    timezone: r.timezone,
    periodStart: iso(r.period_start),
    periodEnd: iso(r.period_end),
    issuedBy: r.issued_by,
    createdAt: iso(r.created_at),
  };
}

/**
 * A document's finance result (discounts, credit draws, taxes) is stored in the `pricing` JSON column,
 * next to the terms it was computed from, under `financeResult`, and an interim invoice's threshold
 * under `interimResult`: the `invoices` table has no column of its own for them, and 18.16 has no
 * idempotent `ADD COLUMN IF NOT EXISTS` for a migration to add one. Other documents are stored exactly
 * as before.
 */
function storedPricing(d: InvoiceDocument): unknown {
  return {
    ...d.pricing,
    ...(d.finance ? { financeResult: d.finance } : {}),
    ...(d.creditNote ? { creditNoteResult: d.creditNote } : {}),
    ...(d.interim ? { interimResult: d.interim } : {}),
  };
}

function fromStoredPricing(
  text: string,
): Pick<InvoiceDocument, 'pricing' | 'finance' | 'creditNote' | 'interim'> {
  const stored = JSON.parse(text) as InvoiceDocument['pricing'] & {
    financeResult?: InvoiceDocument['finance'];
    creditNoteResult?: InvoiceDocument['creditNote'];
    interimResult?: InvoiceDocument['interim'];
  };
  const { financeResult, creditNoteResult, interimResult, ...pricing } = stored;
  return {
    pricing,
    ...(financeResult ? { finance: financeResult } : {}),
    ...(creditNoteResult ? { creditNote: creditNoteResult } : {}),
    ...(interimResult ? { interim: interimResult } : {}),
  };
}

/**
 * The credit-note number of a document read back: a credit note on request has its own; any other
 * downward adjustment's derives from its invoice and version (not stored: it is a function of both).
 */
function creditNoteNumberOf(doc: InvoiceDocument): Pick<InvoiceDocument, 'creditNoteNumber'> {
  if (doc.creditNote) return { creditNoteNumber: doc.creditNote.number };
  if (doc.kind === 'adjustment' && BigInt(doc.totalMinor) < 0n)
    return { creditNoteNumber: creditNoteNumber({ invoiceId: doc.referencesInvoiceId }, doc.version) };
  return {};
}
