/**
 * Runs a drill the way `npm run verify` does, in a fresh folder removed afterwards, and
 * fails with every failed check (name and figures) so a broken promise explains itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { failures, passed, type Drill, type DrillResult } from '../../verify/drill';

export async function runPassingDrill(drill: Drill): Promise<DrillResult> {
  const workDir = mkdtempSync(path.join(tmpdir(), `drill-${drill.id}-`));
  try {
    const result = await drill.run({ workDir });
    if (!passed(result)) throw new Error(`drill ${drill.id} failed:\n${failures(result)}`);
    return result;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
