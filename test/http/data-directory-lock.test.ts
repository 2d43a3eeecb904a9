/**
 * One process per embedded data folder: a second one is refused at once, naming the folder and the holder's PID; a
 * lock left by a process that was killed is taken over.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DataDirectoryInUseError, lockDataDirectory } from '../../src/db/data-directory-lock.js';
import { openDatabase } from '../../src/db/database.js';

const folders: string[] = [];
function newDataFolder(): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'bursar-lock-'));
  folders.push(folder);
  return folder;
}
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A child process with its output collected: `npm start` on a data folder, or a script. */
function spawnWithOutput(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}

async function waitForOutput(output: () => string, expected: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output().includes(expected)) {
    if (Date.now() > deadline) throw new Error(`no "${expected}" in time; output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('embedded data folder lock', { timeout: 120_000 }, () => {
  test('a second lock in the same process is refused until the first is released', async () => {
    const folder = newDataFolder();
    const first = await lockDataDirectory(folder);
    await assert.rejects(lockDataDirectory(folder), (error: unknown) => {
      assert.ok(error instanceof DataDirectoryInUseError);
      assert.equal(error.holderPid, process.pid);
      return true;
    });
    await first.release();
    const again = await lockDataDirectory(folder);
    await again.release();
  });

  test('a second process on the folder exits at once, naming the folder and the holder', async () => {
    const folder = newDataFolder();
    const holder = await lockDataDirectory(folder);
    try {
      const second = spawnWithOutput(['src/main.ts'], { BURSAR_DATA_DIR: folder, PORT: '0', HOST: '127.0.0.1', BURSAR_JOB_WORKERS: '0' });
      const [code] = (await once(second.child, 'exit')) as [number | null];
      assert.equal(code, 1, second.output());
      assert.match(second.output(), new RegExp(`data folder ${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another Bursar process \\(PID ${process.pid}\\)`));
      assert.doesNotMatch(second.output(), /listening/);
      assert.equal(readFileSync(path.join(folder, 'bursar.pid'), 'utf8').trim(), String(process.pid), 'the holder keeps its lock');
    } finally {
      await holder.release();
    }
  });

  test('a lock left by a killed process is taken over', async () => {
    const folder = newDataFolder();
    const holdLock = `import { lockDataDirectory } from './src/db/data-directory-lock.ts';
      await lockDataDirectory(process.argv[1]); console.log('locked'); setInterval(() => undefined, 1000);`;
    const killed = spawnWithOutput(['--input-type=module', '--eval', holdLock, folder]);
    try {
      await waitForOutput(killed.output, 'locked', 60_000);
    } finally {
      killed.child.kill('SIGKILL');
      await once(killed.child, 'exit');
    }
    assert.equal(readFileSync(path.join(folder, 'bursar.pid'), 'utf8').trim(), String(killed.child.pid));
    assert.ok(existsSync(path.join(folder, 'bursar.lock')), 'the killed process left its lock behind');

    const next = await openDatabase({ url: null, dataDirectory: folder });
    assert.equal(readFileSync(path.join(folder, 'bursar.pid'), 'utf8').trim(), String(process.pid));
    await next.close();
    assert.equal(existsSync(path.join(folder, 'bursar.lock')), false, 'closing releases the lock');
    assert.equal(existsSync(path.join(folder, 'bursar.pid')), false);
  });
});
