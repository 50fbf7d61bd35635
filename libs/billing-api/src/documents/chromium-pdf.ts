/**
 * Invoice PDFs: the invoice's HTML page (`renderInvoiceHtml`, the one layout of the documents) printed
 * by headless Chromium from Debian's `chromium` package (`infra.sh documents` installs it).
 *
 * Each render is its own short-lived Chromium process with a fresh profile in a temporary folder, so a
 * crash or a hang affects one request only: it is killed (its whole process group) after `timeoutMs`.
 * At most `concurrency` run at once and at most `maxQueued` wait; beyond that the answer is 503
 * `PDF_RENDERER_BUSY` with a Retry-After, so a burst of PDF requests cannot take the query service's
 * memory and cores. Without a Chromium binary every PDF request is 503 `PDF_RENDERER_UNAVAILABLE`; JSON
 * and HTML are unaffected.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UnavailableError } from '@tally/errors';

/** Port: turns a self-contained HTML page into a PDF. */
export interface PdfRenderer {
  render(html: string): Promise<Buffer>;
}

export interface ChromiumPdfOptions {
  /** A path, or a command name looked up in PATH (`chromium`). */
  binary: string;
  timeoutMs: number;
  concurrency: number;
  maxQueued: number;
}

/** The executable `binary` names: itself when it contains a slash, else the first match in PATH. */
export async function resolveExecutable(
  binary: string,
  searchPath = process.env.PATH ?? '',
): Promise<string | undefined> {
  const candidates = binary.includes('/')
    ? [binary]
    : searchPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, binary));
  for (const candidate of candidates) {
    if (
      await access(candidate, fsConstants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

/**
 * Chromium's flags: headless, no first-run work, no network (a proxy that answers nothing: the page is
 * self-contained), A4 from the page's own `@page` rule, no header/footer. Scripts stay on because
 * headless printing needs them (`--blink-settings=scriptEnabled=false` prints nothing); the page has none,
 * every value in it is escaped. As root Chromium refuses to start with its sandbox, hence
 * `--no-sandbox` there: the page is Tally's own, read from a local file.
 */
function chromiumArgs(dir: string): string[] {
  const args = [
    '--headless',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-extensions',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--no-default-browser-check',
    '--proxy-server=127.0.0.1:9',
    '--proxy-bypass-list=<-loopback>',
    '--run-all-compositor-stages-before-draw',
    '--no-pdf-header-footer',
    `--user-data-dir=${path.join(dir, 'profile')}`,
    `--crash-dumps-dir=${path.join(dir, 'crashes')}`,
    `--print-to-pdf=${path.join(dir, 'document.pdf')}`,
  ];
  if (process.getuid?.() === 0) args.unshift('--no-sandbox');
  return [...args, `file://${path.join(dir, 'document.html')}`];
}

export class ChromiumPdfRenderer implements PdfRenderer {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private executable?: Promise<string | undefined>;

  constructor(private readonly options: ChromiumPdfOptions) {}

  /** Whether a Chromium binary is there (checked once; a missing one makes PDF requests 503). */
  available(): Promise<boolean> {
    return this.resolve().then((e) => e !== undefined);
  }

  async render(html: string): Promise<Buffer> {
    const executable = await this.resolve();
    if (!executable)
      throw new UnavailableError(
        'PDF_RENDERER_UNAVAILABLE',
        `No Chromium to print PDFs ('${this.options.binary}' not found; install it with 'bash tools/infra/infra.sh documents' or set INVOICE_PDF_CHROMIUM)`,
        60,
      );
    await this.acquire();
    try {
      return await this.print(executable, html);
    } finally {
      this.release();
    }
  }

  private resolve(): Promise<string | undefined> {
    this.executable ??= resolveExecutable(this.options.binary);
    return this.executable;
  }

  private acquire(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.maxQueued)
      return Promise.reject(
        new UnavailableError('PDF_RENDERER_BUSY', 'Too many PDFs being printed; retry shortly', 2),
      );
    // The slot is handed over by release(): `active` stays counted for the waiter.
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }

  private async print(executable: string, html: string): Promise<Buffer> {
    const dir = await mkdtemp(path.join(tmpdir(), 'tally-pdf-'));
    try {
      await writeFile(path.join(dir, 'document.html'), html, 'utf8');
      await this.run(executable, chromiumArgs(dir));
      const pdf = await readFile(path.join(dir, 'document.pdf')).catch(() => undefined);
      if (!pdf || pdf.subarray(0, 5).toString('latin1') !== '%PDF-')
        throw new UnavailableError('PDF_RENDER_FAILED', 'Chromium wrote no PDF', 5);
      return pdf;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Runs Chromium in its own process group, killed as a whole after the timeout. */
  private run(executable: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(executable, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-2000);
      });
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      };
      const timer = setTimeout(() => {
        killGroup();
        reject(
          new UnavailableError(
            'PDF_RENDER_TIMEOUT',
            `Chromium did not print the PDF within ${this.options.timeoutMs} ms`,
            5,
          ),
        );
      }, this.options.timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(
          new UnavailableError('PDF_RENDER_FAILED', `Chromium did not start: ${error.message}`, 5, error),
        );
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        // Helpers Chromium left behind (zygote, GPU process) go with their group.
        killGroup();
        if (code === 0) resolve();
        else
          // Chromium's own words stay in the cause (logged by the service), not in the client's answer.
          reject(
            new UnavailableError(
              'PDF_RENDER_FAILED',
              `Chromium exited with ${code ?? signal} without a PDF`,
              5,
              new Error(stderr.trim().split('\n').slice(-3).join(' | ')),
            ),
          );
      });
    });
  }
}
