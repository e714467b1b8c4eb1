/**
 * Runs a drill the way `npm run verify` does and fails with every failed check (name and
 * figures), so a broken promise explains itself.
 */
import { failures, passed, runDrill, type Drill, type DrillResult } from '../../verify/drill';

export async function runPassingDrill(drill: Drill): Promise<DrillResult> {
  const result = await runDrill(drill);
  if (!passed(result)) throw new Error(`drill ${drill.id} failed:\n${failures(result)}`);
  return result;
}
