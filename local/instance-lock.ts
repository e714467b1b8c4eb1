/**
 * One local platform per data folder: a second one would fight the first over the
 * emulators' LevelDB files and ports and fail with errors that name neither. The lock
 * file holds the owner's pid and URLs, so the second start can say who is running where.
 */
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';

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

/** The owner a lock file names; `gone` when there is no file, undefined when it names none (unreadable). */
function readOwner(file: string): LockOwner | 'gone' | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** What the platform holding the lock `file` says about itself, if its process is alive. */
export function runningPlatform(file: string): LockOwner | undefined {
  const owner = readOwner(file);
  return owner !== undefined && owner !== 'gone' && isAlive(owner.pid) ? owner : undefined;
}

/** A file beside `file` that no other process names the same. */
const besideFile = (file: string, purpose: string): string => `${file}.${process.pid}.${randomUUID()}.${purpose}`;

/**
 * Creates `file` holding `owner`, whole or not at all: a file written in place can be read
 * empty by another process, which would take it for a lock its writer left unreadable.
 * False when the file exists.
 */
function createLockFile(file: string, owner: LockOwner): boolean {
  const written = besideFile(file, 'new');
  writeFileSync(written, JSON.stringify(owner));
  try {
    linkSync(written, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(written, { force: true });
  }
}

/**
 * Removes a lock judged stale. Two processes can judge the same lock stale and the first
 * then take the lock anew, so the file is moved aside first, and put back when what was
 * moved is a live process's lock and not the stale one.
 */
function removeStaleLock(file: string): void {
  const aside = besideFile(file, 'stale');
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const moved = readOwner(aside);
    if (moved !== undefined && moved !== 'gone' && moved.pid !== process.pid && isAlive(moved.pid)) linkBack(aside, file);
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Puts a moved lock back unless a third process has taken the lock meanwhile. */
function linkBack(aside: string, file: string): void {
  try {
    linkSync(aside, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

export interface InstanceLock {
  /** Records where the platform listens and what it is called, for a second start and for the tools. */
  describe(description: PlatformDescription): void;
  release(): void;
}

/** Takes the lock or throws `PlatformAlreadyRunningError`; a lock left by a dead process is taken over. */
export function acquireInstanceLock(file: string, dataDir: string): InstanceLock {
  const startedAt = new Date().toISOString();
  while (!createLockFile(file, { pid: process.pid, startedAt })) {
    const owner = readOwner(file);
    // Released since: try again.
    if (owner === 'gone') continue;
    const stale = owner === undefined || !isAlive(owner.pid) || (owner.pid === process.pid && !heldHere.has(file));
    if (!stale) throw new PlatformAlreadyRunningError(owner, dataDir);
    removeStaleLock(file);
  }
  heldHere.add(file);
  return {
    describe(description) {
      // Replaced whole, for the same reason it is created whole.
      const written = besideFile(file, 'new');
      writeFileSync(written, JSON.stringify({ pid: process.pid, startedAt, ...description }));
      renameSync(written, file);
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
