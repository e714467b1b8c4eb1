/**
 * The ingest API's redeploy trigger: a hash of every attribute of every resource a deployment
 * snapshots, so any change to the API's definition is deployed to the stage. AWS serves a
 * changed method, integration or response only after a new deployment:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-deployments.html
 */
import { DefaultTokenResolver, StringConcat, TerraformResource, Tokenization } from 'cdktf';
import { DEPLOYED_RESOURCE_TYPES, definitionHash } from '../../stacks/api-definition';
import { IngestApi, type IngestApiProps } from '../../stacks/ingest-api';
import { constructStack, synthJson } from './synth-helpers';

const props: IngestApiProps = {
  name: 'iot-ingest',
  region: 'eu-west-2',
  streamName: 'iot-readings',
  streamArn: 'arn:stream',
  kmsKeyArn: 'arn:key',
  batchBuckets: 2,
  logRetentionDays: 30,
  alarmActions: ['arn:aws:sns:eu-west-2:111122223333:ops'],
};

function build(overrides: Partial<IngestApiProps> = {}) {
  const stack = constructStack();
  const api = new IngestApi(stack, 'ingest-api', { ...props, ...overrides });
  return { stack, api };
}

/** The deployment's trigger and description as Terraform receives them. */
function deployed(overrides: Partial<IngestApiProps> = {}) {
  const { stack } = build(overrides);
  const deployment = synthJson(stack).resource.aws_api_gateway_deployment!['ingest-api_deployment']!;
  return { trigger: (deployment.triggers as { definition: string }).definition, description: String(deployment.description) };
}

const resolver = new DefaultTokenResolver(new StringConcat());
/** The resource's own attributes as synthesized. */
function attributesOf(resource: TerraformResource): Record<string, unknown> {
  const byType = (Tokenization.resolve(resource.toTerraform(), { scope: resource, resolver, preparing: false }) as { resource: Record<string, Record<string, Record<string, unknown>>> }).resource;
  const { '//': _metadata, depends_on: _order, lifecycle: _lifecycle, ...attributes } = Object.values(Object.values(byType)[0]!)[0]!;
  return attributes;
}

/** A different value; a list or map becomes a string, which replaces it whole (an override of an object is merged into it). */
function changed(value: unknown): unknown {
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'boolean') return !value;
  return `${typeof value === 'string' ? value : JSON.stringify(value)}-changed`;
}

it('is the hash Terraform receives, shown in the deployment description, and stable across synths', () => {
  const first = deployed();
  expect(first.trigger).toMatch(/^[0-9a-f]{64}$/);
  expect(first.description).toBe(`Definition ${first.trigger.slice(0, 12)}`);
  expect(deployed().trigger).toBe(first.trigger);
});

it('changes when any attribute of any resource a deployment serves changes', () => {
  const { api } = build();
  const served = api.node.findAll().filter(TerraformResource.isTerraformResource).filter((resource) => DEPLOYED_RESOURCE_TYPES.has(resource.terraformResourceType));
  // Rest API, 2 resources, 2 models, 1 validator, 2 methods, 2 integrations, 10 method responses, 6 integration responses, 9 gateway responses.
  expect(served.length).toBe(35);
  // Each change stays in place, so every step must move the hash away from the one before it.
  let previous = definitionHash(api);
  const unnoticed: string[] = [];
  let attributesChanged = 0;
  for (const resource of served) {
    for (const [attribute, value] of Object.entries(attributesOf(resource))) {
      resource.addOverride(attribute, changed(value));
      const now = definitionHash(api);
      if (now === previous) unnoticed.push(`${resource.node.path}.${attribute}`);
      previous = now;
      attributesChanged += 1;
    }
  }
  expect(unnoticed).toEqual([]);
  expect(attributesChanged).toBeGreaterThan(100);
});

it.each([
  ['an integration\'s credentials', 'ingest-api/put-reading-integration', 'credentials'],
  ['an integration\'s passthrough behaviour', 'ingest-api/post-batch-integration', 'passthrough_behavior'],
  ['an integration\'s request parameters', 'ingest-api/put-reading-integration', 'request_parameters'],
  ['a method\'s API-key requirement', 'ingest-api/put-reading', 'api_key_required'],
  ['the request validator', 'ingest-api/body-validator', 'validate_request_parameters'],
  ['a gateway response template', 'ingest-api/gateway-default-4xx', 'response_templates'],
])('redeploys on a change of %s, which the former hand-picked hash missed', (_what, path, attribute) => {
  const { api } = build();
  const baseline = definitionHash(api);
  const resource = api.node.findAll().find((construct) => construct.node.path === `pipeline/${path}`) as TerraformResource;
  resource.addOverride(attribute, changed(attributesOf(resource)[attribute] ?? false));
  expect(definitionHash(api)).not.toBe(baseline);
});

it('does not redeploy for settings the stage applies without a deployment (throttling, quota)', () => {
  expect(deployed({ rateLimit: 10, burstLimit: 20, quotaPerDay: 1000 }).trigger).toBe(deployed().trigger);
  expect(deployed({ streamName: 'other-stream' }).trigger).not.toBe(deployed().trigger);
});
