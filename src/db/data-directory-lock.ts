/**
 * One process per embedded data folder: PGlite keeps no lock of its own, so a second process on the same folder would
 * answer writes that the first one then overwrites. The lock is `proper-lockfile`'s (a directory created atomically,
 * its mtime refreshed while held, stale after STALE_MS); beside it the holder's PID, to name it and to take over at
 * once a lock whose holder is gone.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';

const LOCK_NAME = 'bursar.lock';
const PID_NAME = 'bursar.pid';
/** A lock not refreshed for this long is stale, whoever holds it (the holder refreshes it every STALE_MS / 2). */
const STALE_MS = 10_000;
/** Folders this process holds: its own PID in the PID file then means "in use", not "left by an earlier run". */
const heldHere = new Set<string>();

export class DataDirectoryInUseError extends Error {
  constructor(
    readonly directory: string,
    readonly holderPid: number | null,
  ) {
    super(
      `The data folder ${directory} is in use by another Bursar process (${holderPid === null ? 'PID unknown' : `PID ${holderPid}`}); ` +
        'stop that process or set BURSAR_DATA_DIR to another folder',
    );
    this.name = 'DataDirectoryInUseError';
  }
}

export interface DataDirectoryLock {
  release(): Promise<void>;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolderPid(pidFile: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the folder's lock, or throws `DataDirectoryInUseError` at once when a running process holds it. */
export async function lockDataDirectory(directory: string): Promise<DataDirectoryLock> {
  const lockPath = path.join(directory, LOCK_NAME);
  const pidFile = path.join(directory, PID_NAME);
  if (heldHere.has(lockPath)) throw new DataDirectoryInUseError(directory, process.pid);
  const acquire = () =>
    lockfile.lock(directory, {
      lockfilePath: lockPath,
      realpath: false,
      stale: STALE_MS,
      retries: 0,
      // Only a stalled event loop or another process removing the lock gets here: stopping is the one safe answer.
      onCompromised: (error) => {
        console.error(`Lost the lock on the data folder ${directory} (${error.message}); stopping so that no other process writes beside this one`);
        process.exit(1);
      },
    });

  let unlock: () => Promise<void>;
  try {
    unlock = await acquire();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const holder = readHolderPid(pidFile);
    // No PID yet: a process is between taking the lock and writing it, or died there (then the lock goes stale).
    // Our own PID is an earlier run's that had the same one (a container restarted).
    if (holder === null || (holder !== process.pid && isRunning(holder))) throw new DataDirectoryInUseError(directory, holder);
    // Left by a process that is gone (kill -9, a crash, a power cut): take it over.
    rmSync(lockPath, { recursive: true, force: true });
    try {
      unlock = await acquire();
    } catch (retryError) {
      if ((retryError as NodeJS.ErrnoException).code === 'ELOCKED') throw new DataDirectoryInUseError(directory, readHolderPid(pidFile));
      throw retryError;
    }
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  heldHere.add(lockPath);
  return {
    async release() {
      rmSync(pidFile, { force: true });
      heldHere.delete(lockPath);
      await unlock();
    },
  };
}
