/**
 * prevent_destroy on the real stacks: every resource whose type holds data carries it, and
 * the `allowDestroy` setting lifts it from all of them for a deliberate teardown, loudly.
 */
import { Testing } from 'cdktf';
import { loadConfig } from '../../stacks/config';
import { statefulResourceType } from '../../policy/stateful-resources';
import { configOf, synthPlatform, type Synthesized } from './synth-helpers';

/** Every resource of every stack as `stack:address` → its lifecycle block, for the types that hold data. */
function statefulLifecycles(synthesized: Synthesized): Map<string, unknown> {
  const found = new Map<string, unknown>();
  for (const [stack, { json }] of Object.entries(synthesized)) {
    for (const [type, byName] of Object.entries(json.resource)) {
      if (statefulResourceType(type) === undefined) continue;
      for (const [name, config] of Object.entries(byName)) found.set(`${stack}:${type}.${name}`, config['lifecycle']);
    }
  }
  return found;
}

const PROTECTED = [
  'repository:aws_ecr_repository.web-images_repository',
  'pipeline:aws_dynamodb_table.tables_alerts',
  'pipeline:aws_dynamodb_table.tables_rollups',
  'pipeline:aws_dynamodb_table.tables_series',
  'pipeline:aws_dynamodb_table.tables_things',
  'pipeline:aws_dynamodb_table.tables_thresholds',
  'pipeline:aws_kinesis_stream.stream_stream',
  'pipeline:aws_kms_key.data-key_key',
  'pipeline:aws_kms_key.operations_topic-key',
  'pipeline:aws_s3_bucket.archive_bucket',
  'pipeline:aws_s3_bucket.archive-query_results_bucket',
  'pipeline:aws_s3_bucket.web-load-balancer_access-logs_bucket',
  'pipeline:aws_sqs_queue.consumers_failure-queue',
];

describe('prevent_destroy in the stacks', () => {
  it('is on every table, the stream, every bucket, both keys, the failure queue and the image repository', () => {
    const lifecycles = statefulLifecycles(synthPlatform(configOf()));
    expect([...lifecycles.keys()].sort()).toEqual([...PROTECTED].sort());
    for (const lifecycle of lifecycles.values()) expect(lifecycle).toEqual({ prevent_destroy: true });
  });

  it('is lifted from all of them with allowDestroy, with one warning each naming what a destroy loses', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const synthesized = synthPlatform(configOf({ allowDestroy: true }));
      const lifecycles = statefulLifecycles(synthesized);
      expect([...lifecycles.keys()].sort()).toEqual([...PROTECTED].sort());
      for (const lifecycle of lifecycles.values()) expect(lifecycle).toBeUndefined();
      const lines = warn.mock.calls.map(([line]) => String(line));
      expect(lines).toHaveLength(PROTECTED.length);
      expect(lines.find((line) => line.includes('aws_dynamodb_table.tables_things'))).toMatch(/allowDestroy is on: .*every item in the table/);
      // A second synth of the same stack (cdktf invokes aspects again) changes nothing and warns no more.
      Testing.synth(synthesized.pipeline.stack);
      expect(warn).toHaveBeenCalledTimes(PROTECTED.length);
    } finally {
      warn.mockRestore();
    }
  });

  it('is off only when the configuration turns allowDestroy on (here through PLATFORM_ALLOW_DESTROY)', () => {
    expect(loadConfig({ env: {} }).allowDestroy).toBe(false);
    expect(loadConfig({ env: { PLATFORM_ALLOW_DESTROY: 'true' } }).allowDestroy).toBe(true);
    expect(() => loadConfig({ env: { PLATFORM_ALLOW_DESTROY: 'yes please' } })).toThrow(/allowDestroy .*from PLATFORM_ALLOW_DESTROY/);
  });
});
