import { TerraformStack } from 'cdktf';
import type { TerraformElement } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { Construct, Node } from 'constructs';
import { configureBackend } from './backend';
import type { PlatformConfig } from './config';
import type { StackName } from './output-names';
import { protectStatefulResources } from './prevent-destroy';

/** Tags on every resource of every stack (provider default tags), before the configured ones. */
export const BASE_TAGS = { Project: 'iot-analytics', ManagedBy: 'cdktf' } as const;

const TERRAFORM_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * A stack of this platform: AWS provider with default tags, the configured state backend,
 * and readable logical ids (`ingest-api_rest-api` rather than `ingestapi_restapi_1A2B3C4D`)
 * that stay the same as long as the construct tree does.
 */
export class PlatformStack extends TerraformStack {
  private readonly ownersOfIds = new Map<string, Node>();

  constructor(scope: Construct, readonly stackName: StackName, readonly config: PlatformConfig) {
    super(scope, stackName);
    new AwsProvider(this, 'aws', {
      region: config.region,
      defaultTags: [{ tags: { ...BASE_TAGS, Stack: stackName, ...(config.namePrefix === '' ? {} : { NamePrefix: config.namePrefix }), ...config.tags } }],
    });
    configureBackend(this, config.backend, stackName);
    protectStatefulResources(this, { allowDestroy: config.allowDestroy });
  }

  /** The construct path below the stack, joined with `_`; throws if two constructs would share an id. */
  protected override allocateLogicalId(element: TerraformElement | Node): string {
    const node = 'node' in element ? element.node : element;
    const components = node.scopes.slice(node.scopes.indexOf(this) + 1).map((scope) => scope.node.id);
    if (components.length === 0) return '';
    const id = components.join('_');
    if (!TERRAFORM_NAME.test(id)) {
      throw new Error(`construct path "${node.path}" does not give a Terraform name: use letters, digits, "-" and "_" in construct ids`);
    }
    const owner = this.ownersOfIds.get(id);
    if (owner !== undefined && owner !== node) throw new Error(`constructs "${owner.path}" and "${node.path}" would both be named "${id}" in Terraform: rename one`);
    this.ownersOfIds.set(id, node);
    return id;
  }
}
