/**
 * `tally`: the operator CLI (`npm run tally -- <command>`). Writes the catalog and API keys straight
 * to NATS KV, as operators with NATS access do; see docs/cli.md.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { runTally } from './cli';
import { connectCatalog } from './connect';

async function readInput(path: string): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

runTally(process.argv.slice(2), {
  env: process.env,
  readFile: readInput,
  connect: connectCatalog,
  writeFile: (path, text) => writeFile(path, text, 'utf8'),
  // The bar redraws one line of the terminal (standard error, so stdout stays the result).
  progress: (line) => void process.stderr.write(line === '\n' ? line : `\r${line}`),
})
  .then(({ code, stdout, stderr }) => {
    process.stdout.write(stdout);
    process.stderr.write(stderr);
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    process.stderr.write(`tally: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
