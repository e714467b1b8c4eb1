/**
 * For each backend kind: every stack keeps its state where the configuration says, every
 * consumer's remote-state data source points at its producer's state, and every output a
 * consumer reads exists, under that name, among the producer's outputs.
 */
import type { BackendKind } from '../../stacks/config';
import { STACK_NAMES, type StackName } from '../../stacks/output-names';
import { configOf, synthPlatform, type Synthesized } from './synth-helpers';

const configs: Record<BackendKind, unknown> = {
  local: {},
  s3: { backend: { kind: 's3', s3: { bucket: 'acme-terraform-state' } } },
  cloud: { backend: { kind: 'cloud', cloud: { organization: 'acme' } } },
};

/** Where each kind keeps `stack`'s state, as the backend block and the remote-state config spell it. */
const expectedLocation: Record<BackendKind, (stack: StackName) => Record<string, unknown>> = {
  local: (stack) => ({ path: `../../../terraform-state/${stack}.tfstate` }),
  s3: (stack) => ({ bucket: 'acme-terraform-state', key: `iot-platform/${stack}.tfstate`, region: 'eu-west-2' }),
  cloud: (stack) => ({ organization: 'acme', hostname: 'app.terraform.io', workspaces: { name: `iot-${stack}` } }),
};
const remoteStateBackend: Record<BackendKind, string> = { local: 'local', s3: 's3', cloud: 'remote' };

/** The consumer → producer reads the platform is built on. */
const READS: { consumer: StackName; producer: StackName; state: string }[] = [
  { consumer: 'pipeline', producer: 'repository', state: 'repository-state' },
  { consumer: 'scaling', producer: 'pipeline', state: 'pipeline-state' },
];

const synthesized = {} as Record<BackendKind, Synthesized>;
beforeAll(() => {
  for (const kind of Object.keys(configs) as BackendKind[]) synthesized[kind] = synthPlatform(configOf(configs[kind]));
});
describe.each(Object.keys(configs) as BackendKind[])('the %s backend', (kind) => {
  it.each(STACK_NAMES)('keeps the %s state where configured', (stack) => {
    const { terraform } = synthesized[kind][stack].json;
    if (kind === 'cloud') {
      // Terraform Cloud is configured by a `cloud` block, not a backend.
      expect(terraform.backend).toBeUndefined();
      expect(terraform.cloud).toEqual(expectedLocation.cloud(stack));
    } else {
      expect(Object.keys(terraform.backend ?? {})).toEqual([kind]);
      expect(terraform.backend?.[kind]).toMatchObject(expectedLocation[kind](stack));
    }
    if (kind === 's3') expect(terraform.backend?.s3).toMatchObject({ encrypt: true, use_lockfile: true });
  });

  it.each(READS)('lets $consumer read $producer through a $state data source at the producer\'s state', ({ consumer, producer, state }) => {
    const source = synthesized[kind][consumer].json.data?.terraform_remote_state?.[state];
    expect(source).toEqual({ backend: remoteStateBackend[kind], config: expectedLocation[kind](producer) });
  });

  it.each(READS)('finds every output $consumer reads among $producer\'s outputs', ({ consumer, producer, state }) => {
    const read = [...synthesized[kind][consumer].text.matchAll(new RegExp(`data\\.terraform_remote_state\\.${state}\\.outputs\\.([A-Za-z0-9_]+)`, 'g'))].map((match) => match[1]!);
    expect(read.length).toBeGreaterThan(0);
    const published = Object.keys(synthesized[kind][producer].json.output ?? {});
    expect(published).toEqual(expect.arrayContaining([...new Set(read)]));
  });

  it('declares the deploy order repository → pipeline → scaling', () => {
    const { pipeline, scaling, repository } = synthesized[kind];
    expect(repository.stack.dependencies).toEqual([]);
    expect(pipeline.stack.dependencies).toEqual([repository.stack]);
    expect(scaling.stack.dependencies).toEqual([pipeline.stack]);
  });
});

it('reads cluster, service and (for the instance CPU metric) Auto Scaling group names in the scaling stack', () => {
  const names = (text: string) => new Set([...text.matchAll(/pipeline-state\.outputs\.([a-z_]+)/g)].map((match) => match[1]));
  expect(names(synthesized.local.scaling.text)).toEqual(new Set(['cluster_name', 'service_name']));
  const seedLike = synthPlatform(configOf({ scaling: { cpuMetric: 'instances' } }));
  expect(names(seedLike.scaling.text)).toEqual(new Set(['cluster_name', 'service_name', 'autoscaling_group_name']));
});

it('puts local state in the configured folder, relative to where terraform runs', () => {
  const custom = synthPlatform(configOf({ backend: { local: { stateDir: 'state/terraform' } } }));
  expect(custom.pipeline.json.terraform.backend?.local).toEqual({ path: '../../../state/terraform/pipeline.tfstate' });
  expect(custom.scaling.json.data?.terraform_remote_state?.['pipeline-state']?.config).toEqual({ path: '../../../state/terraform/pipeline.tfstate' });
});
