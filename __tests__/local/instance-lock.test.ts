import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../build/project-root';
import { acquireInstanceLock, PlatformAlreadyRunningError } from '../../local/instance-lock';

const run = promisify(execFile);

describe('one local platform per data folder', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'lock-'));
    file = path.join(dir, 'platform.lock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second start while the first holds the lock, naming where the first one runs', () => {
    const lock = acquireInstanceLock(file, dir);
    lock.describe({ urls: { web: 'http://127.0.0.1:5000', ingest: 'http://127.0.0.1:4010/prod/thingsstream' } });
    let error: unknown;
    try {
      acquireInstanceLock(file, dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PlatformAlreadyRunningError);
    expect((error as Error).message).toContain(`process ${process.pid}`);
    expect((error as Error).message).toContain('http://127.0.0.1:5000');
    expect((error as Error).message).toMatch(/--data-dir/);
    lock.release();
  });

  it('can be taken again once released', () => {
    acquireInstanceLock(file, dir).release();
    const again = acquireInstanceLock(file, dir);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    again.release();
  });

  it('takes over a lock left by a process that no longer exists', () => {
    // Pid numbers this high are never handed out (Linux's maximum is 4194304).
    writeFileSync(file, JSON.stringify({ pid: 99_999_999, startedAt: '2020-01-01T00:00:00Z' }));
    const lock = acquireInstanceLock(file, dir);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over an unreadable lock file', () => {
    writeFileSync(file, 'garbage');
    acquireInstanceLock(file, dir).release();
  });

  it('is held by one process at a time when processes take and release it as fast as they can', async () => {
    // Four processes take the lock 400 times each and write their start and end while they hold it. The lock as it
    // was (written in place, removed when unreadable) failed this within a second: a process found it gone and could
    // not remove it, as a jest worker did on a fresh clone.
    const log = path.join(dir, 'holders.log');
    const taker = `
      const { appendFileSync } = require('node:fs');
      const { acquireInstanceLock, PlatformAlreadyRunningError } = require(${JSON.stringify(path.join(PROJECT_ROOT, 'local', 'instance-lock.ts'))});
      (async () => {
        for (let taken = 0; taken < 400; ) {
          let lock;
          try { lock = acquireInstanceLock(${JSON.stringify(file)}, ${JSON.stringify(dir)}); }
          catch (error) { if (!(error instanceof PlatformAlreadyRunningError)) throw error; await new Promise((resolve) => setImmediate(resolve)); continue; }
          appendFileSync(${JSON.stringify(log)}, '+' + process.pid + '\\n');
          await new Promise((resolve) => setImmediate(resolve));
          appendFileSync(${JSON.stringify(log)}, '-' + process.pid + '\\n');
          lock.release();
          taken++;
        }
      })().catch((error) => { console.error(error); process.exit(1); });`;
    await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--import', 'tsx', '-e', taker], { cwd: PROJECT_ROOT, timeout: 60_000 })));
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4 * 400 * 2);
    // Every start is followed by the same process's end: no two holders at once.
    const overlaps = lines.filter((line, index) => index % 2 === 0 && (!line.startsWith('+') || lines[index + 1] !== `-${line.slice(1)}`));
    expect(overlaps).toEqual([]);
    // Nothing left behind: the lock is released and no file written beside it remains.
    expect(readdirSync(dir).sort()).toEqual(['holders.log']);
  }, 90_000);
});
