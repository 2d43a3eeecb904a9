/**
 * A PostgreSQL cluster of the test's own (the machine's initdb and pg_ctl, a temporary folder, a free port, trust
 * authentication), so that a test may stop and restart it without touching any shared server.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const POSTGRES_ROOT = '/usr/lib/postgresql';

/** The bin folder of the newest PostgreSQL installed, or null when there is none. */
export function findPostgresBin(): string | null {
  if (!existsSync(POSTGRES_ROOT)) return null;
  const versions = readdirSync(POSTGRES_ROOT)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const version of versions) {
    const bin = path.join(POSTGRES_ROOT, version, 'bin');
    if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server (if running) and deletes its folder. */
  destroy(): Promise<void>;
}

/** initdb refuses to run as root: as root, the cluster is made and run by the `postgres` system user. */
async function commandRunner(folder: string): Promise<(program: string, args: string[]) => Promise<void>> {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout: uid } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(folder, Number(uid), Number(gid));
  }
  return async (program, args) => {
    const [file, fullArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args];
    await run(file, fullArgs, { timeout: 60_000 });
  };
}

export async function startPrivatePostgres(bin: string): Promise<PrivatePostgres> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'bursar-pg-'));
  const data = path.join(folder, 'data');
  const port = await freePort();
  const exec = await commandRunner(folder);
  const pgCtl = path.join(bin, 'pg_ctl');
  // The socket lives in the folder too: nothing is written outside it.
  const serverOptions = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1`;
  const start = () => exec(pgCtl, ['start', '-w', '-t', '30', '-D', data, '-l', path.join(folder, 'server.log'), '-o', serverOptions]);
  const stop = () => exec(pgCtl, ['stop', '-w', '-t', '30', '-m', 'fast', '-D', data]);
  let running = false;
  try {
    await exec(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await start();
    running = true;
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => exec(pgCtl, ['restart', '-w', '-t', '30', '-m', 'fast', '-D', data, '-l', path.join(folder, 'server.log'), '-o', serverOptions]),
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await exec(pgCtl, ['stop', '-w', '-t', '30', '-m', 'immediate', '-D', data]).catch(() => undefined);
      running = false;
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
