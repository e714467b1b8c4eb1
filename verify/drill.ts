/**
 * What a failure drill is and what it reports: a named scenario run against a local
 * platform of its own, ending in checks (each passed or failed, with the figures that
 * decided it) and, when readings went through the pipeline, how many were sent, stored
 * and sent to the failure queue. `npm run verify` prints these; the tests assert them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface DrillCheck {
  /** What must hold, as a sentence: "every good reading is stored". */
  readonly name: string;
  readonly ok: boolean;
  /** The figures behind the verdict: "1,000 of 1,000 stored". */
  readonly detail: string;
}

/** Readings through the pipeline during a drill. */
export interface ReadingTally {
  /** Records put on the stream (through the ingest API or directly). */
  readonly sent: number;
  /** Of those, readings found in the things table. */
  readonly stored: number;
  /** Messages in the failure queue at the end. */
  readonly failureQueue: number;
}

/** Bad inputs tried, and how many got the clear refusal expected. */
export interface BadInputTally {
  readonly tried: number;
  readonly handled: number;
}

/** What a drill finds. */
export interface DrillOutcome {
  readonly checks: readonly DrillCheck[];
  readonly readings?: ReadingTally;
  readonly badInputs?: BadInputTally;
}

/** A drill's outcome as reported: which drill, and how long it took. */
export interface DrillResult extends DrillOutcome {
  readonly drill: string;
  readonly durationMs: number;
}

export interface DrillOptions {
  /** An empty folder the drill may use for its platform's data. */
  readonly workDir: string;
  /** Progress lines. @default nothing */
  readonly log?: (line: string) => void;
}

export interface Drill {
  /** Short id, as `npm run verify -- --only <id>` takes it. */
  readonly id: string;
  /** One line: what is broken and what must still hold. */
  readonly title: string;
  run(options: DrillOptions): Promise<DrillOutcome>;
}

/**
 * Runs a drill in a fresh temporary folder (removed afterwards) and times it. A drill that
 * throws is reported as a failed check, so one broken drill does not hide the others.
 */
export async function runDrill(drill: Drill, log?: (line: string) => void): Promise<DrillResult> {
  const workDir = mkdtempSync(path.join(tmpdir(), `drill-${drill.id}-`));
  const started = Date.now();
  try {
    const outcome = await drill.run({ workDir, ...(log === undefined ? {} : { log }) });
    return { drill: drill.id, ...outcome, durationMs: Date.now() - started };
  } catch (error) {
    const detail = (error as Error).message.split('\n')[0] ?? String(error);
    return { drill: drill.id, checks: [check('the drill ran to the end', false, detail)], durationMs: Date.now() - started };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

export function check(name: string, ok: boolean, detail: string): DrillCheck {
  return { name, ok, detail };
}

export const passed = (result: DrillResult): boolean => result.checks.length > 0 && result.checks.every((entry) => entry.ok);

/** The checks that failed, as one message for a test failure or the report. */
export function failures(result: DrillResult): string {
  return result.checks
    .filter((entry) => !entry.ok)
    .map((entry) => `${result.drill}: ${entry.name} — ${entry.detail}`)
    .join('\n');
}
