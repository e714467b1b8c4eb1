import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadStack } from '../../../local/twin/load-stack';
import { TwinResolutionError } from '../../../local/twin/stack';

/** A small stack in cdk.tf.json form, with a sibling stack whose state it reads. */
const APP = {
  provider: { aws: [{ region: 'eu-west-1' }] },
  terraform: { backend: { local: { path: '../../state/app.tfstate' } } },
  data: {
    aws_partition: { part: {} },
    aws_caller_identity: { me: {} },
    aws_availability_zones: { zones: { state: 'available' } },
    terraform_remote_state: { base: { backend: 'local', config: { path: '../../state/base.tfstate' } } },
  },
  resource: {
    aws_sqs_queue: { failures: { '//': { metadata: { path: 'app/failures' } }, name: 'app-failures', depends_on: ['aws_kms_key.key'] } },
    aws_dynamodb_table: { things: { name: 'things', hash_key: 'Id', read_capacity: 5, ttl: { attribute_name: 'ExpiresAt', enabled: true } } },
    aws_lambda_function: {
      worker: {
        function_name: 'app-worker',
        memory_size: '${aws_dynamodb_table.things.read_capacity}',
        environment: {
          variables: {
            QUEUE_URL: '${aws_sqs_queue.failures.url}',
            TABLE: '${aws_dynamodb_table.things.name}',
            TABLE_ARN: '${aws_dynamodb_table.things.arn}',
            TTL: '${aws_dynamodb_table.things.ttl[0].attribute_name}',
            ACCOUNT: 'account ${data.aws_caller_identity.me.account_id} in ${data.aws_partition.part.partition}',
            ZONE: '${data.aws_availability_zones.zones.names[1]}',
            IMAGE: '${data.terraform_remote_state.base.outputs.repository}:latest',
            LITERAL: 'costs $${amount} and %%{percent}',
          },
        },
        role: '${aws_iam_role.missing.arn}',
        description: '${cidrsubnet("10.0.0.0/16", 8, 1)}',
      },
    },
    aws_api_gateway_rest_api: { api: { name: 'api' } },
    aws_api_gateway_resource: {
      top: { rest_api_id: '${aws_api_gateway_rest_api.api.id}', parent_id: '${aws_api_gateway_rest_api.api.root_resource_id}', path_part: 'things' },
      below: { rest_api_id: '${aws_api_gateway_rest_api.api.id}', parent_id: '${aws_api_gateway_resource.top.id}', path_part: 'batch' },
    },
    aws_api_gateway_stage: { prod: { rest_api_id: '${aws_api_gateway_rest_api.api.id}', stage_name: 'prod' } },
    aws_ssm_parameter: { loop: { name: '${aws_ssm_parameter.loop.name}' } },
  },
  output: { queue_url: { value: '${aws_sqs_queue.failures.url}' }, invoke_url: { value: '${aws_api_gateway_stage.prod.invoke_url}/things' } },
};

const BASE = {
  provider: { aws: [{ region: 'eu-west-1' }] },
  terraform: { backend: { local: { path: '../../state/base.tfstate' } } },
  resource: { aws_ecr_repository: { images: { name: 'images' } } },
  output: { repository: { value: '${aws_ecr_repository.images.repository_url}' } },
};

describe('loadStack: the synthesized stack with local values for AWS-computed attributes', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'load-stack-'));
    for (const [name, json] of [['app', APP], ['base', BASE]] as const) {
      mkdirSync(path.join(dir, 'stacks', name), { recursive: true });
      writeFileSync(path.join(dir, 'stacks', name, 'cdk.tf.json'), JSON.stringify(json));
    }
    file = path.join(dir, 'stacks', 'app', 'cdk.tf.json');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const variables = (stack = loadStack(file)) => (stack.resource('aws_lambda_function.worker').config.environment as { variables: Record<string, unknown> }).variables;

  it('resolves references to arguments and to the ARNs and URLs AWS computes, in the provider region and local account', () => {
    const env = variables();
    expect(env.TABLE).toBe('things');
    expect(env.TABLE_ARN).toBe('arn:aws:dynamodb:eu-west-1:000000000000:table/things');
    expect(env.QUEUE_URL).toBe('https://sqs.eu-west-1.amazonaws.com/000000000000/app-failures');
    // A block written as an object is its own first element, as Terraform indexes blocks.
    expect(env.TTL).toBe('ExpiresAt');
  });

  it('keeps the type of a lone interpolation and joins text around others, as Terraform templates do', () => {
    expect(loadStack(file).resource('aws_lambda_function.worker').config.memory_size).toBe(5);
    expect(variables().ACCOUNT).toBe('account 000000000000 in aws');
  });

  it('reads $${ and %%{ as literal text (https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences)', () => {
    expect(variables().LITERAL).toBe('costs ${amount} and %{percent}');
  });

  it('resolves data sources to local values: partition, caller identity, availability zones', () => {
    const stack = loadStack(file);
    expect(stack.attribute('data.aws_partition.part', 'partition')).toBe('aws');
    expect(stack.attribute('data.aws_caller_identity.me', 'account_id')).toBe('000000000000');
    expect(variables(stack).ZONE).toBe('eu-west-1b');
  });

  it("resolves remote-state outputs from the sibling stack whose backend writes that state", () => {
    expect(variables().IMAGE).toBe('000000000000.dkr.ecr.eu-west-1.amazonaws.com/images:latest');
  });

  it('gives deterministic ids, and API Gateway resource paths from their parent chain', () => {
    const first = loadStack(file);
    const second = loadStack(file);
    const api = first.resource('aws_api_gateway_rest_api.api');
    expect(api.id).toMatch(/^[a-z0-9]{10}$/);
    expect(second.resource('aws_api_gateway_rest_api.api').id).toBe(api.id);
    expect(first.attribute('aws_api_gateway_rest_api.api', 'root_resource_id')).not.toBe(api.id);
    expect(first.resource('aws_api_gateway_resource.below').config.parent_id).toBe(first.resource('aws_api_gateway_resource.top').id);
    expect(first.attribute('aws_api_gateway_resource.below', 'path')).toBe('/things/batch');
    expect(first.resource('aws_sqs_queue.failures').id).toBe(variables(first).QUEUE_URL);
  });

  it('points URL attributes at local endpoints when the platform gives them, and refuses to read one not listening yet', () => {
    let sqs: string | undefined;
    const stack = loadStack(file, { endpoints: { sqs: () => sqs, apiGateway: () => 'http://127.0.0.1:4010' } });
    expect(stack.output('invoke_url')).toBe('http://127.0.0.1:4010/prod/things');
    expect(() => stack.output('queue_url')).toThrow(/sqs endpoint is not listening yet/);
    sqs = 'http://127.0.0.1:4566';
    expect(stack.output('queue_url')).toBe('http://127.0.0.1:4566/000000000000/app-failures');
  });

  it('resolves lazily: a reference nothing reads never has to resolve, one that is read throws naming the resource and argument', () => {
    const worker = loadStack(file).resource('aws_lambda_function.worker');
    expect(worker.config.function_name).toBe('app-worker');
    let error: unknown;
    try {
      void worker.config.role;
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TwinResolutionError);
    expect(error).toMatchObject({ address: 'aws_lambda_function.worker', attribute: 'role' });
    expect((error as Error).message).toMatch(/aws_lambda_function\.worker: role: the stack has no resource aws_iam_role\.missing/);
  });

  it('names a Terraform function it does not evaluate, and a missing attribute, and a reference to itself', () => {
    const stack = loadStack(file);
    expect(() => stack.resource('aws_lambda_function.worker').config.description).toThrow(/description: \$\{cidrsubnet\("10.0.0.0\/16", 8, 1\)\} is not a plain reference/);
    expect(() => stack.attribute('aws_dynamodb_table.things', 'stream_arn')).toThrow(TwinResolutionError);
    expect(() => stack.attribute('aws_dynamodb_table.things', 'stream_arn')).toThrow(/aws_dynamodb_table\.things has no attribute "stream_arn"/);
    expect(() => stack.resource('aws_ssm_parameter.loop').config.name).toThrow(/refers to itself/);
  });

  it('leaves meta-arguments out of the arguments and lists resources by type, data sources apart', () => {
    const stack = loadStack(file);
    expect(Object.keys(stack.resource('aws_sqs_queue.failures').config)).toEqual(['name']);
    expect(stack.resources('aws_api_gateway_resource').map((resource) => resource.name)).toEqual(['top', 'below']);
    expect(stack.resources('aws_partition')).toEqual([]);
    expect(stack.dataSources('aws_partition').map((resource) => resource.address)).toEqual(['data.aws_partition.part']);
    expect(() => stack.resource('aws_sqs_queue.nope')).toThrow(TwinResolutionError);
  });

  it('refuses a stack whose provider names no region', () => {
    const bare = path.join(dir, 'bare.json');
    writeFileSync(bare, JSON.stringify({ resource: {} }));
    expect(() => loadStack(bare)).toThrow(/names no region/);
    expect(loadStack(bare, { region: 'us-east-1' }).region).toBe('us-east-1');
  });
});
