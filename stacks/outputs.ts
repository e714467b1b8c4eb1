/**
 * The outputs the stacks publish. Their names live in ./output-names (no cdktf there, for
 * the tools); they are re-exported here so the stacks and the contract test that checks
 * every output a consumer reads exists in its producer keep one import.
 */
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';

export { PIPELINE_OUTPUTS, REPOSITORY_OUTPUTS, SCALING_OUTPUTS, STACK_NAMES, type StackName } from './output-names';

/** An output whose Terraform name is exactly `name` (it is a direct child of the stack). */
export function namedOutput(stack: Construct, name: string, value: string, description: string, sensitive = false): TerraformOutput {
  return new TerraformOutput(stack, name, { value, description, sensitive });
}
