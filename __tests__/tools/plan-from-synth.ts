/**
 * A first-deploy plan of a synthesized stack, in Terraform's documented JSON form
 * (https://developer.hashicorp.com/terraform/internals/json-format), built from its
 * cdk.tf.json as `terraform show -json` would print it before anything exists: every
 * resource created, every value that comes from a `${...}` expression unknown until apply,
 * policy documents that depend on such values read during apply.
 */
import type { TerraformJson } from '../stacks/synth-helpers';

const PROVIDER = 'registry.terraform.io/hashicorp/aws';
/** Meta-arguments: configuration of Terraform itself, not attributes of the object. */
const META = new Set(['//', 'lifecycle', 'depends_on', 'provider', 'count', 'for_each', 'provisioner', 'connection']);

const isExpression = (value: unknown): boolean => typeof value === 'string' && value.includes('${');

/** The value as known at plan time (expressions left out) and its `after_unknown` mask. */
function split(value: unknown): { known: unknown; unknown: unknown } {
  if (isExpression(value)) return { known: null, unknown: true };
  if (Array.isArray(value)) {
    const parts = value.map(split);
    return { known: parts.map((part) => part.known), unknown: parts.map((part) => part.unknown ?? false) };
  }
  if (typeof value === 'object' && value !== null) {
    const known: Record<string, unknown> = {};
    const unknown: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const part = split(item);
      if (part.unknown === true) unknown[key] = true;
      else {
        known[key] = part.known;
        if (part.unknown !== undefined && part.unknown !== false) unknown[key] = part.unknown;
      }
    }
    return { known, unknown };
  }
  return { known: value, unknown: undefined };
}

const hasUnknown = (mask: unknown): boolean => mask === true || (typeof mask === 'object' && mask !== null && Object.values(mask).some(hasUnknown));

/** Every `${...}` reference in a value, as the configuration representation lists them. */
function references(value: unknown): string[] {
  const text = JSON.stringify(value);
  return [...new Set([...text.matchAll(/\$\{([^}]*)\}/g)].map((match) => (match[1] ?? '').trim()))];
}

function expressions(attributes: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, isExpression(value) || hasUnknown(split(value).unknown) ? { references: references(value) } : { constant_value: value }]));
}

function attributesOf(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([key]) => !META.has(key)));
}

/** The JSON plan of creating every resource of the stack. */
export function createOnlyPlan(stack: TerraformJson): Record<string, unknown> {
  const resourceChanges: Record<string, unknown>[] = [];
  const planned: Record<string, unknown>[] = [];
  const configured: Record<string, unknown>[] = [];
  for (const [mode, section] of [['managed', stack.resource], ['data', stack.data ?? {}]] as const) {
    for (const [type, byName] of Object.entries(section)) {
      for (const [name, config] of Object.entries(byName)) {
        const address = `${mode === 'data' ? 'data.' : ''}${type}.${name}`;
        const attributes = attributesOf(config);
        const { known, unknown } = split(attributes);
        configured.push({ address, mode, type, name, provider_config_key: 'aws', expressions: expressions(attributes), schema_version: 0 });
        // A data source Terraform can read while planning is not a change; one that waits on new values is read during apply.
        if (mode === 'data' && !hasUnknown(unknown)) continue;
        const afterUnknown = mode === 'managed' ? { ...(unknown as object), id: true, arn: true } : { ...(unknown as object), id: true, json: true };
        resourceChanges.push({
          address,
          mode,
          type,
          name,
          provider_name: PROVIDER,
          change: { actions: [mode === 'data' ? 'read' : 'create'], before: null, after: known, after_unknown: afterUnknown, before_sensitive: false, after_sensitive: {} },
          ...(mode === 'data' ? { action_reason: 'read_because_config_unknown' } : {}),
        });
        planned.push({ address, mode, type, name, provider_name: PROVIDER, schema_version: 0, values: known, sensitive_values: {} });
      }
    }
  }
  const outputs = Object.entries(stack.output ?? {});
  return {
    format_version: '1.2',
    terraform_version: '1.11.4',
    planned_values: {
      outputs: Object.fromEntries(outputs.map(([name, output]) => [name, { sensitive: output.sensitive === true }])),
      root_module: { resources: planned },
    },
    resource_changes: resourceChanges,
    output_changes: Object.fromEntries(
      outputs.map(([name, output]) => [name, { actions: ['create'], before: null, after_unknown: true, before_sensitive: false, after_sensitive: output.sensitive === true }]),
    ),
    configuration: {
      provider_config: { aws: { name: 'aws', full_name: PROVIDER, expressions: { region: { constant_value: stack.provider.aws[0]?.region } } } },
      root_module: {
        outputs: Object.fromEntries(outputs.map(([name, output]) => [name, { expression: { references: references(output.value) }, ...(output.sensitive === true ? { sensitive: true } : {}) }])),
        resources: configured,
      },
    },
    timestamp: '2025-06-02T09:14:27Z',
    applyable: true,
    complete: true,
    errored: false,
  };
}
