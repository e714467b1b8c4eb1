/**
 * One local platform per data folder: a second one would fight the first over the
 * emulators' LevelDB files and ports and fail with errors that name neither. The lock
 * file holds the owner's pid and URLs, so the second start can say who is running where.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/** What a running platform publishes about itself, for a second start's message and for the tools. */
export interface PlatformDescription {
  readonly urls: Readonly<Record<string, string>>;
  readonly tables?: Readonly<Record<string, string>>;
  readonly region?: string;
  readonly apiKey?: string;
}

export interface LockOwner extends Partial<PlatformDescription> {
  readonly pid: number;
  readonly startedAt: string;
}

export class PlatformAlreadyRunningError extends Error {
  constructor(
    readonly owner: LockOwner,
    dataDir: string,
  ) {
    const where = owner.urls === undefined ? '' : ` (dashboard ${owner.urls.web ?? '?'}, ingest ${owner.urls.ingest ?? '?'})`;
    super(
      `The local platform is already running with data folder ${dataDir}: process ${owner.pid}, started ${owner.startedAt}${where}.\n` +
        'Use that one, stop it first (Ctrl-C in its terminal), or start another with its own --data-dir and ports.',
    );
    this.name = 'PlatformAlreadyRunningError';
  }
}

/** Lock files held by this process: a platform started twice in one process is caught too. */
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** What the platform holding the lock `file` says about itself, if its process is alive. */
export function runningPlatform(file: string): LockOwner | undefined {
  const owner = readOwner(file);
  return owner !== undefined && isAlive(owner.pid) ? owner : undefined;
}

export interface InstanceLock {
  /** Records where the platform listens and what it is called, for a second start and for the tools. */
  describe(description: PlatformDescription): void;
  release(): void;
}

/** Takes the lock or throws `PlatformAlreadyRunningError`; a lock left by a dead process is taken over. */
export function acquireInstanceLock(file: string, dataDir: string): InstanceLock {
  const startedAt = new Date().toISOString();
  const write = (owner: LockOwner, flags: string) => {
    const fd = openSync(file, flags);
    try {
      writeSync(fd, JSON.stringify(owner));
    } finally {
      closeSync(fd);
    }
  };
  for (;;) {
    try {
      write({ pid: process.pid, startedAt }, 'wx');
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(file);
      const stale = owner === undefined || !isAlive(owner.pid) || (owner.pid === process.pid && !heldHere.has(file));
      if (!stale) throw new PlatformAlreadyRunningError(owner, dataDir);
      unlinkSync(file);
    }
  }
  heldHere.add(file);
  return {
    describe(description) {
      write({ pid: process.pid, startedAt, ...description }, 'w');
    },
    release() {
      heldHere.delete(file);
      try {
        unlinkSync(file);
      } catch {
        // Already gone (e.g. the data folder was removed): nothing to release.
      }
    },
  };
}
