/**
 * `tally simulation run -f <request.json>`: posts a price simulation to the query API
 * (`POST /v1/simulations`, docs/simulations.md), draws a progress bar while a workflow runs, prints the
 * totals per currency, and writes the results as CSV with `--csv <file>`.
 */
import { formatMinor } from '@tally/pricing';
import { optionValue, parseArgs, requireOption, UsageError, type ArgSpec } from './args';

/** What the simulation command needs besides the CLI's own dependencies. */
export interface SimulationCliDeps {
  env: Record<string, string | undefined>;
  readFile(path: string): Promise<string>;
  fetch?: typeof fetch;
  /** Writes a file (the CSV). */
  writeFile?: (path: string, text: string) => Promise<void>;
  /** Shows a live line on the terminal (the progress bar); absent: no bar. */
  progress?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface SimulationOutput {
  line(text?: string): void;
  note(text: string): void;
}

interface Total {
  currency: string;
  customers: number;
  billedMinor: string;
  simulatedMinor: string;
  differenceMinor: string;
}
interface Summary {
  counts: { scanned: number; simulated: number; usageChanged: number; notInvoiced: number };
  totals: Total[];
}

export const SIMULATION_RUN: ArgSpec = {
  values: ['file', 'csv', 'poll-ms'],
  flags: [],
  aliases: { f: 'file' },
};

/** `[##########----------]  5,000/10,000` */
export function progressBar(done: number, of: number, width = 30): string {
  const share = of > 0 ? Math.min(1, done / of) : 0;
  const full = Math.round(share * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${done}/${Math.max(of, 0)} customer-periods`;
}

export async function simulationRun(
  argv: string[],
  io: SimulationOutput,
  deps: SimulationCliDeps,
): Promise<number> {
  const args = parseArgs(argv, SIMULATION_RUN);
  if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const body = await deps.readFile(requireOption(args, 'file'));
  const base = (deps.env.TALLY_API_URL ?? 'http://127.0.0.1:3001').replace(/\/$/, '');
  const key = deps.env.TALLY_API_KEY;
  if (!key)
    throw new UsageError('set TALLY_API_KEY to an admin key of the tenant (and TALLY_API_URL if not local)');
  const csvPath = optionValue(args, 'csv');
  const pollMs = Number(optionValue(args, 'poll-ms') ?? 1000);
  const http = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const headers = { authorization: `Bearer ${key}` };

  const call = async (path: string, init?: RequestInit): Promise<Response> => {
    const res = await http(`${base}${path}`, { ...init, headers: { ...headers, ...(init?.headers ?? {}) } });
    if (!res.ok) {
      io.note(`tally: ${init?.method ?? 'GET'} ${path} answered ${res.status}: ${await res.text()}`);
      throw new CliFailure();
    }
    return res;
  };
  try {
    const posted = await call(`/v1/simulations${csvPath ? '?format=csv' : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    if (posted.status === 200) {
      if ((posted.headers.get('content-type') ?? '').startsWith('text/csv')) {
        await writeCsv(deps, csvPath as string, await posted.text(), io);
        return 0;
      }
      printSummary(io, (await posted.json()) as Summary);
      return 0;
    }
    const started = (await posted.json()) as {
      simulationId: string;
      expected: number;
      status: string;
      csv: string;
    };
    io.note(`simulation ${started.simulationId} runs as a workflow (${started.expected} customer-periods)`);
    for (;;) {
      const status = (await (await call(started.status)).json()) as Summary & {
        workflowStatus: string;
        expected: number;
      };
      deps.progress?.(progressBar(status.counts.scanned, status.expected));
      if (status.workflowStatus === 'COMPLETED') {
        deps.progress?.('\n');
        printSummary(io, status);
        if (csvPath) await writeCsv(deps, csvPath, await (await call(started.csv)).text(), io);
        io.note(`results: ${base}${started.status}, CSV: ${base}${started.csv}`);
        return 0;
      }
      if (status.workflowStatus !== 'RUNNING') {
        deps.progress?.('\n');
        io.note(`tally: the simulation ended ${status.workflowStatus}`);
        return 1;
      }
      await sleep(pollMs);
    }
  } catch (error) {
    if (error instanceof CliFailure) return 1;
    throw error;
  }
}

class CliFailure extends Error {}

async function writeCsv(
  deps: SimulationCliDeps,
  path: string,
  text: string,
  io: SimulationOutput,
): Promise<void> {
  if (!deps.writeFile) throw new Error('no file writer');
  await deps.writeFile(path, text);
  io.note(`CSV written to ${path}`);
}

function printSummary(io: SimulationOutput, s: Summary): void {
  const c = s.counts;
  io.line(
    `customer-periods: ${c.simulated} simulated (${c.usageChanged} with usage changed since their invoice), ${c.scanned} looked at, ${c.notInvoiced} listed without an invoice`,
  );
  for (const t of s.totals) {
    const sign = t.differenceMinor.startsWith('-') ? '' : '+';
    io.line(
      `${t.currency}: ${t.customers} customers, billed ${formatMinor(t.billedMinor, t.currency)}, simulated ${formatMinor(t.simulatedMinor, t.currency)}, difference ${sign}${formatMinor(t.differenceMinor, t.currency)}`,
    );
  }
}
