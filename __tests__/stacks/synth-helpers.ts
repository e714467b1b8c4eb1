/**
 * One synth of the three stacks for a test file: stacks built as main.ts builds them,
 * with the handler bundles the run built once (__tests__/handler-bundles.ts).
 */
import { Testing, type TerraformStack } from 'cdktf';
import { setupJest } from 'cdktf/lib/testing/adapters/jest';
import type { HandlerName, PackagedHandler } from '../../build/handler-bundle';
import { testHandlerPackages } from '../handler-bundles';
import { validateConfig, type PlatformConfig } from '../../stacks/config';
import { definePlatform } from '../../stacks/platform';
import { PlatformStack } from '../../stacks/platform-stack';
import type { StackName } from '../../stacks/output-names';

// cdktf's matchers (toHaveResourceWithProperties, toHaveDataSourceWithProperties, ...) for every file that synthesizes.
setupJest();

export type TerraformJson = {
  terraform: { backend?: Record<string, Record<string, unknown>>; cloud?: Record<string, unknown> };
  provider: { aws: { region: string; default_tags: { tags: Record<string, string> }[] }[] };
  resource: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: string; description?: string; sensitive?: boolean }>;
};

export type Synthesized = Record<StackName, { text: string; json: TerraformJson; stack: TerraformStack }>;

let packages: Record<HandlerName, PackagedHandler> | undefined;

/** The handler packages, built once per run (__tests__/handler-bundles.ts); read once per test file. */
export function handlerPackages(): Record<HandlerName, PackagedHandler> {
  packages ??= testHandlerPackages();
  return packages;
}

/** Config from a file-shaped object, as `loadConfig` would build it. */
export const configOf = (input: unknown = {}): PlatformConfig => validateConfig(input);

export function synthPlatform(config: PlatformConfig): Synthesized {
  const app = Testing.app();
  const stacks: Record<StackName, TerraformStack> = { ...definePlatform(app, config, { handlerPackages: handlerPackages() }) };
  const result = {} as Synthesized;
  for (const [name, stack] of Object.entries(stacks) as [StackName, TerraformStack][]) {
    const text = Testing.synth(stack);
    result[name] = { text, json: JSON.parse(text) as TerraformJson, stack };
  }
  return result;
}

/** Every resource of a type, by logical id. */
export function resources(json: TerraformJson, type: string): Record<string, Record<string, unknown>> {
  return json.resource[type] ?? {};
}

/** The single resource of a type (fails the test when there is not exactly one). */
export function only(json: TerraformJson, type: string): Record<string, unknown> {
  const found = Object.values(resources(json, type));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0]!;
}

/** A Terraform reference to an attribute of a resource: `${type.id.attribute}`. */
export const ref = (type: string, id: string, attribute: string): string => `\${${type}.${id}.${attribute}}`;

/** The resource with this logical id. */
export function resource(json: TerraformJson, type: string, id: string): Record<string, unknown> {
  const found = resources(json, type)[id];
  if (found === undefined) throw new Error(`no ${type}.${id}; have ${Object.keys(resources(json, type)).join(', ')}`);
  return found;
}

/** The policy statements of the `aws_iam_policy_document` data source a `${data...json}` reference names. */
export function policyStatements(json: TerraformJson, reference: unknown): Record<string, unknown>[] {
  const match = /^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/.exec(String(reference));
  if (match === null) throw new Error(`not a policy document reference: ${String(reference)}`);
  const document = json.data?.aws_iam_policy_document?.[match[1]!];
  if (document === undefined) throw new Error(`no policy document ${match[1]}`);
  return document.statement as Record<string, unknown>[];
}

/** A stack with the platform's readable logical ids (`web-service_task-definition`), for testing one construct. */
export function constructStack(): PlatformStack {
  return new PlatformStack(Testing.app(), 'pipeline', configOf());
}

/** The synthesized JSON of a stack built with `constructStack`. */
export function synthJson(stack: TerraformStack): TerraformJson {
  return JSON.parse(Testing.synth(stack)) as TerraformJson;
}
