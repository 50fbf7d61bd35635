/**
 * The renderer's bounds with a stand-in for Chromium (a shell script taking the same flags): the HTML
 * it is given, the timeout that kills it, the concurrency and queue limits, and a missing binary.
 * Real Chromium prints real invoices in apps/query/test/invoice-pdf.int-spec.ts.
 */
import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ChromiumPdfRenderer, resolveExecutable } from './chromium-pdf';

/**
 * A fake chromium: copies the page to the --print-to-pdf path behind a PDF header, after the seconds in
 * the file `sleep` beside it, or fails when a file `fail` is there (Jest's process.env is not the one
 * child processes inherit, hence files).
 */
const FAKE = `#!/bin/sh
here=$(dirname "$0"); out=""; page=""
for a in "$@"; do
  case "$a" in --print-to-pdf=*) out="\${a#--print-to-pdf=}" ;; file://*) page="\${a#file://}" ;; esac
done
sleep "$(cat "$here/sleep" 2>/dev/null || echo 0)"
[ -e "$here/fail" ] && { echo "fake failure" >&2; exit 3; }
{ printf '%%PDF-1.4\\n%s\\n' "$page"; cat "$page"; } > "$out"
`;

describe('ChromiumPdfRenderer', () => {
  let dir: string;
  let binary: string;
  const renderer = (options: Partial<ConstructorParameters<typeof ChromiumPdfRenderer>[0]> = {}) =>
    new ChromiumPdfRenderer({ binary, timeoutMs: 5_000, concurrency: 1, maxQueued: 1, ...options });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pdf-spec-'));
    binary = path.join(dir, 'chromium');
    await writeFile(binary, FAKE);
    await chmod(binary, 0o755);
  });
  const sleep = (seconds: string) => writeFile(path.join(dir, 'sleep'), seconds);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await rm(path.join(dir, 'sleep'), { force: true });
    await rm(path.join(dir, 'fail'), { force: true });
  });

  it('prints the page it is given and leaves no temporary folder behind', async () => {
    const [header, page, html] = (await renderer().render('<p>Total 145.67 USD</p>'))
      .toString('utf8')
      .split('\n');
    expect([header, html]).toEqual(['%PDF-1.4', '<p>Total 145.67 USD</p>']);
    await expect(access(path.dirname(page))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('finds a binary by name in PATH, and answers 503 PDF_RENDERER_UNAVAILABLE without one', async () => {
    expect(await resolveExecutable('chromium', `/nonexistent${path.delimiter}${dir}`)).toBe(binary);
    const missing = new ChromiumPdfRenderer({
      binary: path.join(dir, 'no-such-chromium'),
      timeoutMs: 1_000,
      concurrency: 1,
      maxQueued: 0,
    });
    expect(await missing.available()).toBe(false);
    await expect(missing.render('<p>x</p>')).rejects.toMatchObject({
      code: 'PDF_RENDERER_UNAVAILABLE',
      httpStatus: 503,
    });
  });

  it('kills a print that takes longer than the timeout: 503 PDF_RENDER_TIMEOUT', async () => {
    await sleep('5');
    const started = Date.now();
    await expect(renderer({ timeoutMs: 300 }).render('<p>x</p>')).rejects.toMatchObject({
      code: 'PDF_RENDER_TIMEOUT',
      httpStatus: 503,
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('answers 503 PDF_RENDER_FAILED when Chromium fails, without its stderr in the message', async () => {
    await writeFile(path.join(dir, 'fail'), '');
    const error = await renderer()
      .render('<p>x</p>')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PDF_RENDER_FAILED', httpStatus: 503 });
    expect((error as Error).message).not.toContain('fake failure');
    expect(String((error as Error).cause)).toContain('fake failure');
  });

  it('runs `concurrency` prints at once, queues `maxQueued`, refuses the rest with 503 PDF_RENDERER_BUSY', async () => {
    await sleep('0.4');
    const r = renderer({ concurrency: 1, maxQueued: 1 });
    const results = await Promise.allSettled([
      r.render('<p>1</p>'),
      r.render('<p>2</p>'),
      r.render('<p>3</p>'),
    ]);
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'PDF_RENDERER_BUSY' });
    // The slots are free again afterwards.
    await sleep('0');
    expect((await r.render('<p>4</p>')).toString()).toContain('<p>4</p>');
    expect(await readFile(binary, 'utf8')).toContain('print-to-pdf');
  });
});
