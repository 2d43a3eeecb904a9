/**
 * The README's walkthrough runs as written: its `sh walkthrough` blocks, in order, in one bash with `-e`, against a
 * freshly started server (empty database, the clock at the real date, whatever the month). Every call that should
 * succeed uses `curl -f`, so a non-2xx answer fails the script and this test.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ADMIN_TOKEN, JWT_SECRET, startTestApp, type TestApp } from '../support/test-app.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The shell blocks fenced as ```sh walkthrough, in the order they appear. */
export function walkthroughBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh walkthrough\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

function runBash(script: string, env: Record<string, string>, cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-e', '-u', '-o', 'pipefail', '-c', script], { cwd, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

let app: TestApp;
let scratch: string;
before(async () => {
  // Job workers on, as `npm start` runs them: billing runs answer 202 and a worker does the work.
  app = await startTestApp({}, { startWorkers: true });
  scratch = mkdtempSync(path.join(os.tmpdir(), 'bursar-readme-'));
});
after(async () => {
  await app.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('the README walkthrough runs in order on a fresh start', async () => {
  const blocks = walkthroughBlocks(readFileSync(path.join(root, 'README.md'), 'utf8'));
  assert.ok(blocks.length >= 5, 'the README has its walkthrough blocks');
  const script = blocks.join('\n');
  for (const endpoint of ['billingExternalId', 'billingUsageReport', 'downloadInvoices', 'changePlan']) {
    assert.ok(script.includes(endpoint), `the walkthrough calls ${endpoint}`);
  }
  // `npm run jwt` runs from the checkout; the files the walkthrough downloads land in a scratch folder.
  const prelude = `cd ${JSON.stringify(scratch)}\nnpm() { (cd ${JSON.stringify(root)} && command npm "$@"); }\n`;
  const result = await runBash(prelude + script + '\necho WALKTHROUGH-DONE', { B: app.baseUrl, ADMIN: ADMIN_TOKEN, BURSAR_JWT_SECRET: JWT_SECRET }, scratch);
  assert.equal(result.code, 0, result.output.slice(-4000));
  assert.match(result.output, /WALKTHROUGH-DONE/);
  assert.equal(readFileSync(path.join(scratch, 'invoice.pdf')).subarray(0, 5).toString(), '%PDF-');
});
