/**
 * A copy of the synthesized stacks (default configuration) with the pipeline stack's
 * JSON edited, laid out as `cdktf.out` is (the pipeline's assets and the sibling stacks
 * linked), as a person editing `cdk.tf.json` before `npm start -- --no-synth` would.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { STACK_NAMES } from '../../../stacks/output-names';
import { synthesizeStacks } from '../../../local/twin/synth';
import type { StackJson } from '../api-gateway/fixture';

export { resourceOf, type StackJson } from '../api-gateway/fixture';

export interface EditedStack {
  readonly file: string;
  remove(): void;
}

export async function editedStack(edit: (json: StackJson) => void): Promise<EditedStack> {
  const synthesized = await synthesizeStacks({ configuration: {} });
  const dir = mkdtempSync(path.join(tmpdir(), 'edited-stack-'));
  const pipelineDir = path.join(dir, 'stacks', 'pipeline');
  mkdirSync(pipelineDir, { recursive: true });
  for (const name of STACK_NAMES) {
    if (name !== 'pipeline') symlinkSync(path.dirname(synthesized.stackFile(name)), path.join(dir, 'stacks', name));
  }
  symlinkSync(path.join(path.dirname(synthesized.stackFile('pipeline')), 'assets'), path.join(pipelineDir, 'assets'));
  const json = JSON.parse(readFileSync(synthesized.stackFile('pipeline'), 'utf8')) as StackJson;
  edit(json);
  const file = path.join(pipelineDir, 'cdk.tf.json');
  writeFileSync(file, JSON.stringify(json, null, 2));
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
