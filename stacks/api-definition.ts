import { createHash } from 'node:crypto';
import { DefaultTokenResolver, StringConcat, TerraformResource, TerraformStack, Tokenization } from 'cdktf';
import type { Construct } from 'constructs';

/**
 * What a deployment snapshots: after a change to any of these, the stage serves the old
 * definition until the API is deployed again (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-deployments.html).
 * The stage, its method settings, usage plans, keys and the account setting apply without one.
 */
export const DEPLOYED_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'aws_api_gateway_rest_api',
  'aws_api_gateway_resource',
  'aws_api_gateway_method',
  'aws_api_gateway_method_response',
  'aws_api_gateway_integration',
  'aws_api_gateway_integration_response',
  'aws_api_gateway_model',
  'aws_api_gateway_request_validator',
  'aws_api_gateway_gateway_response',
  'aws_api_gateway_authorizer',
]);

/** Resolves tokens as the stack's own synthesis does. */
const RESOLVER = new DefaultTokenResolver(new StringConcat());

/**
 * SHA-256 of the synthesized configuration (every attribute, overrides included) of every
 * resource under `api` that a deployment snapshots, in construct-path order. Used as the
 * deployment's trigger, so any change to the API's definition deploys it again.
 */
export function definitionHash(api: Construct): string {
  const stack = TerraformStack.of(api);
  const resolve = (value: unknown) => Tokenization.resolve(value, { scope: stack, resolver: RESOLVER, preparing: false }) as unknown;
  const snapshot = api.node
    .findAll()
    .filter(TerraformResource.isTerraformResource)
    .filter((resource) => DEPLOYED_RESOURCE_TYPES.has(resource.terraformResourceType))
    .map((resource) => {
      const byType = (resolve(resource.toTerraform()) as { resource: Record<string, Record<string, Record<string, unknown>>> }).resource;
      const { '//': _metadata, ...attributes } = Object.values(Object.values(byType)[0] ?? {})[0] ?? {};
      return [resource.node.path, resource.terraformResourceType, attributes] as const;
    })
    .sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(snapshot)).digest('hex');
}
