/**
 * How a stack publishes an output. The outputs' names live in ./output-names (no cdktf
 * there, so the tools that read a deployment's outputs load quickly).
 */
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';

/** An output whose Terraform name is exactly `name` (it is a direct child of the stack). */
export function namedOutput(stack: Construct, name: string, value: string, description: string, sensitive = false): TerraformOutput {
  return new TerraformOutput(stack, name, { value, description, sensitive });
}
