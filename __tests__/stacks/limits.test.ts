/**
 * One source for defaults and limits: the configuration schema is built from the limits each
 * construct exports, and whatever the configuration accepts, the stacks build. Every numeric
 * field is tried at its minimum and its maximum (with the other fields a rule across fields
 * ties it to), and the two extreme configurations are synthesized whole.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { configReference, validateConfig, type ConfigField } from '../../stacks/config';
import { CAPACITY_LIMITS } from '../../stacks/web-capacity';
import { WEB_SERVICE_LIMITS } from '../../stacks/web-service';
import { resource, synthPlatform, type Synthesized } from './synth-helpers';
import { PROJECT_ROOT } from '../../build/project-root';

type Input = Record<string, unknown>;
const NUMERIC = configReference().filter((field): field is ConfigField & { range: { min: number; max: number } } => field.range !== undefined);

/** A file-shaped object with `value` at the dotted `field`. */
function at(field: string, value: unknown): Input {
  return field.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Input;
}

function merge(...inputs: Input[]): Input {
  const result: Input = {};
  for (const input of inputs) {
    for (const [key, value] of Object.entries(input)) {
      const existing = result[key];
      result[key] = typeof value === 'object' && value !== null && !Array.isArray(value) && typeof existing === 'object' && existing !== null ? merge(existing as Input, value as Input) : value;
    }
  }
  return result;
}

/** The fields a bound needs beside it, because a rule across fields ties them (config.ts crossFieldProblems). */
const BIG_INSTANCE = 'm6i.2xlarge';
const COMPANIONS: Readonly<Record<string, (bound: number) => Input>> = {
  'cluster.minInstances': (bound) => at('cluster.maxInstances', Math.max(bound, CAPACITY_LIMITS.maxInstances.min)),
  'scaling.minTasks': (bound) => merge(at('scaling.maxTasks', Math.max(bound, 5)), at('web.desiredTasks', bound)),
  'web.desiredTasks': (bound) => at('scaling.maxTasks', Math.max(bound, 5)),
  'scaling.cpuLowPercent': (bound) => at('scaling.cpuHighPercent', Math.max(bound + 1, 40)),
  'scaling.cpuHighPercent': (bound) => at('scaling.cpuLowPercent', Math.min(bound - 1, 10)),
  'archive.expireAfterDays': (bound) => at('archive.glacierAfterDays', Math.min(30, bound - 90)),
  // The projected years run forwards: a year at its bound projects that one year.
  'query.firstYear': (bound) => at('query.lastYear', bound),
  'query.lastYear': (bound) => at('query.firstYear', bound),
  // An hour is kept no longer than its day: the other at the same bound.
  'rollups.hourRetentionDays': (bound) => at('rollups.dayRetentionDays', bound),
  'rollups.dayRetentionDays': (bound) => at('rollups.hourRetentionDays', bound),
  // A task of the largest size needs an instance that large.
  'web.memoryMiB': (bound) => (bound > 2048 ? at('cluster.instanceType', BIG_INSTANCE) : {}),
  'web.cpuUnits': (bound) => (bound > 2048 ? at('cluster.instanceType', BIG_INSTANCE) : {}),
};
// Capacity settings only show in provisioned mode.
const PROVISIONED = at('tables.billingMode', 'provisioned');

const bound = (field: (typeof NUMERIC)[number], end: 'min' | 'max'): Input => merge(PROVISIONED, COMPANIONS[field.field]?.(field.range[end]) ?? {}, at(field.field, field.range[end]));

it('knows the range of every numeric field, taken from the constructs', () => {
  expect(NUMERIC.length).toBeGreaterThan(30);
  expect(NUMERIC.find((field) => field.field === 'cluster.minInstances')?.range).toEqual({ min: CAPACITY_LIMITS.minInstances.min, max: CAPACITY_LIMITS.minInstances.max });
  expect(NUMERIC.find((field) => field.field === 'web.memoryMiB')?.range).toEqual({ min: WEB_SERVICE_LIMITS.memoryMiB.min, max: WEB_SERVICE_LIMITS.memoryMiB.max });
  expect(NUMERIC.find((field) => field.field === 'cluster.minInstances')?.description).toMatch(/, 0 to 100$/);
});

it.each(NUMERIC.flatMap((field) => (['min', 'max'] as const).map((end) => [field.field, end, field] as const)))('accepts %s at its %s', (_name, end, field) => {
  expect(() => validateConfig(bound(field, end))).not.toThrow();
});

it('refuses each numeric field just outside its range, naming the field', () => {
  for (const field of NUMERIC) {
    for (const outside of [field.range.min - 1, field.range.max + 1]) {
      expect(() => validateConfig(at(field.field, outside))).toThrow(new RegExp(`- ${field.field.replace(/\./g, '\\.')} \\(`));
    }
  }
});

describe.each(['min', 'max'] as const)('every numeric field at its %s together', (end) => {
  let platform: Synthesized;
  const input = merge(...NUMERIC.map((field) => COMPANIONS[field.field]?.(field.range[end]) ?? {}), PROVISIONED, ...NUMERIC.map((field) => at(field.field, field.range[end])));

  beforeAll(() => {
    platform = synthPlatform(validateConfig(input));
  });

  it('synthesizes all three stacks', () => {
    expect(Object.keys(platform)).toEqual(['repository', 'pipeline', 'scaling']);
  });

  it('carries the bounds into the resources', () => {
    const { pipeline, scaling } = platform;
    expect(resource(pipeline.json, 'aws_autoscaling_group', 'web-capacity_instances').min_size).toBe(end === 'min' ? 0 : 100);
    expect(resource(pipeline.json, 'aws_kinesis_stream', 'stream_stream').shard_count).toBe(end === 'min' ? 1 : 500);
    const [container] = JSON.parse(String(resource(pipeline.json, 'aws_ecs_task_definition', 'web-service_task-definition').container_definitions)) as { cpu: number; memory: number }[];
    expect(container).toMatchObject(end === 'min' ? { cpu: 128, memory: 128 } : { cpu: 8192, memory: 30_720 });
    expect(resource(scaling.json, 'aws_appautoscaling_target', 'web-service-scaling_target')).toMatchObject(end === 'min' ? { min_capacity: 1, max_capacity: 1 } : { min_capacity: 100, max_capacity: 100 });
  });
});

it('prints a configuration mistake as a list, without a stack trace, and exits 1 (npm run synth)', () => {
  // An empty file of our own, so a platform.config.json in the checkout cannot change the outcome.
  const folder = mkdtempSync(path.join(tmpdir(), 'synth-errors-'));
  const empty = path.join(folder, 'empty.json');
  writeFileSync(empty, '{}');
  const tsx = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
  const run = spawnSync(tsx, ['main.ts'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, PLATFORM_CONFIG: empty, PLATFORM_CLUSTER_MIN_INSTANCES: '7', PLATFORM_WEB_MEMORY_MI_B: '4096' },
  });
  rmSync(folder, { recursive: true, force: true });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/^Invalid platform configuration \(2 problems\):\n {2}- cluster\.minInstances \(from PLATFORM_CLUSTER_MIN_INSTANCES\): must not exceed cluster\.maxInstances/);
  expect(run.stderr).toContain('  - web.memoryMiB (from PLATFORM_WEB_MEMORY_MI_B): a t3.small has 2048 MiB');
  expect(run.stderr).not.toMatch(/^\s+at /m);
});
