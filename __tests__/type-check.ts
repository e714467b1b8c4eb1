/**
 * `npm test` type-checks the whole project (the `typecheck` script) while jest runs the
 * suites, not before them: much of the suites' time is spent waiting on emulators, child
 * processes and polls, and the type check fills it. Jest's global setup starts it only when
 * npm runs the `test` script, so `npx jest <file>` stays quick; the global teardown waits for
 * it and fails the run with the compiler's diagnostics.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../build/project-root';

interface TypeCheckResult {
  readonly code: number | null;
  readonly output: string;
}

/** Where the global setup leaves the running check for the global teardown (jest runs both in its own process). */
const RUNNING = Symbol.for('iot-analytics-platform.type-check');
type Holder = { [RUNNING]?: Promise<TypeCheckResult> };

export function startTypeCheck(): void {
  if (process.env.npm_lifecycle_event !== 'test') return;
  const scripts = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  // The script as `npm run typecheck` runs it: npm has put node_modules/.bin on this process's PATH.
  const child = spawn(scripts.typecheck ?? 'tsc --noEmit', { cwd: PROJECT_ROOT, shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  (globalThis as Holder)[RUNNING] = new Promise((resolve) => {
    child.on('error', (error) => resolve({ code: null, output: error.message }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

export async function finishTypeCheck(): Promise<void> {
  const running = (globalThis as Holder)[RUNNING];
  if (running === undefined) return;
  const { code, output } = await running;
  if (code !== 0) throw new Error(`the type check failed (npm run typecheck):\n${output.trim()}`);
}
