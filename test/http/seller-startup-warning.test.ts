/** Start-up says so while invoices would be issued with the default seller identity. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

async function startupOutput(env: Record<string, string>): Promise<string> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'bursar-seller-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, BURSAR_DATA_DIR: folder, PORT: '0', HOST: '127.0.0.1', BURSAR_JOB_WORKERS: '0', BURSAR_ADMIN_TOKEN: 'startup-test-token', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 60_000;
    // The seller check follows the start-up summary, whose "Payment provider" line comes first.
    while (!text.includes('Payment provider')) {
      if (Date.now() > deadline) throw new Error(`no start-up summary in time:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return text;
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(folder, { recursive: true, force: true });
  }
}

test('start-up warns while the seller identity is the default, and not once it is configured', { timeout: 180_000 }, async () => {
  const defaults = await startupOutput({});
  assert.match(defaults, /WARNING: invoices are issued with the default seller identity \(not set: name, address, country, email\); set it with PUT \/admin\/seller/);

  const configured = await startupOutput({
    BURSAR_SELLER_NAME: 'Bursar Cloud SAS',
    BURSAR_SELLER_ADDRESS: '12 Rue de Rivoli|75004 Paris',
    BURSAR_SELLER_COUNTRY: 'FR',
    BURSAR_SELLER_EMAIL: 'billing@bursar.example',
  });
  assert.doesNotMatch(configured, /default seller identity/);
});
