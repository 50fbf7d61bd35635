/**
 * `tally invoice export <document id>...`: pushes ledger documents to the configured payment provider
 * through the query API (`POST /v1/invoices/:id/payment-export`, docs/documents.md#payment-export), one
 * line per document. Safe to repeat: an exported document answers `already_exported`.
 */
import { parseArgs, UsageError, type ArgSpec } from './args';
import type { SimulationCliDeps, SimulationOutput } from './simulation';

const INVOICE_EXPORT: ArgSpec = { values: [], flags: [], aliases: {} };

export async function invoiceExport(
  argv: string[],
  io: SimulationOutput,
  deps: Pick<SimulationCliDeps, 'env' | 'fetch'>,
): Promise<number> {
  const args = parseArgs(argv, INVOICE_EXPORT);
  if (!args.positionals.length) throw new UsageError('name at least one document id');
  const base = (deps.env.TALLY_API_URL ?? 'http://127.0.0.1:3001').replace(/\/$/, '');
  const key = deps.env.TALLY_API_KEY;
  if (!key)
    throw new UsageError('set TALLY_API_KEY to an admin key of the tenant (and TALLY_API_URL if not local)');
  const http = deps.fetch ?? fetch;
  let failed = 0;
  for (const id of args.positionals) {
    const path = `/v1/invoices/${encodeURIComponent(id)}/payment-export`;
    const res = await http(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    if (!res.ok) {
      io.note(`tally: ${id}: POST ${path} answered ${res.status}: ${await res.text()}`);
      failed++;
      continue;
    }
    const body = (await res.json()) as { status: string; record: { provider: string; externalId: string } };
    io.line(`${id}  ${body.status}  ${body.record.provider} ${body.record.externalId || '-'}`);
  }
  return failed ? 1 : 0;
}
