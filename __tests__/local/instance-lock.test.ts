import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { acquireInstanceLock, PlatformAlreadyRunningError } from '../../local/instance-lock';

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
});
