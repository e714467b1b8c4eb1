import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { javaStringHash } from '../../local/api-gateway/vtl-util';
import { READING_STREAM_LIMITS } from '../../stacks/construct-defaults';
import { sampleReadings } from '../../tools/cost-sample';
import { PROJECT_ROOT } from '../../build/project-root';

const floorMod = (value: number, modulus: number): number => ((value % modulus) + modulus) % modulus;

const run = promisify(execFile);

describe('npm run cost -- --json', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cost-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a tiny mix measures what the pipeline does per reading today: one stream record per bucket of each batch, one Firehose record per stream record, one table item per series per consumer batch', async () => {
    // A one-second batching window keeps the run short; everything else is the default configuration.
    const config = path.join(dir, 'platform.config.json');
    writeFileSync(config, JSON.stringify({ consumers: { batchWindowSeconds: 1 } }));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tools/cost.ts', '--json', '--config', config, '--sensors', '10', '--readings', '20', '--batch', '50'], { cwd: PROJECT_ROOT, timeout: 120_000 });
    const result = JSON.parse(stdout) as {
      sample: { readings: number };
      perReading: Record<string, number>;
      totals: Record<string, number>;
      lines: { service: string }[];
    };
    expect(result.sample.readings).toBe(200);
    const units = result.perReading;
    // Batches of 50: one request per 50 readings.
    expect(units.apiRequests).toBeCloseTo(1 / 50, 10);
    // The batch template packs each batch's readings into one record per bucket of thing ids (2 buckets: the default 2 shards).
    const ids = sampleReadings(10, 20, 100).map((reading) => String(reading.id));
    let records = 0;
    for (let start = 0; start < ids.length; start += 50) records += new Set(ids.slice(start, start + 50).map((id) => floorMod(javaStringHash(id), READING_STREAM_LIMITS.shardCount.default))).size;
    expect(units.streamRecords).toBeCloseTo(records / 200, 10);
    // Each record (about 25 readings, 2.5 KB) is one 25 KB PUT payload unit and one 5 KB Firehose minimum.
    expect(units.putPayloadUnits).toBeCloseTo(records / 200, 10);
    // Every record is read by the two consumers and the archive.
    expect(units.streamBytesRead).toBeCloseTo(3 * (units.streamBytes ?? 0), 6);
    expect(units.firehoseRecords).toBeCloseTo(records / 200, 10);
    expect(units.firehoseBilledBytes).toBeCloseTo((records * 5 * 1024) / 200, 6);
    // Segment items in the things table, whatever its name prefix: 10 series of 20 readings, in a few consumer
    // batches, so at least 5 readings an item (one item per reading before), each item under 1 KB.
    const thingsItems = Object.entries(units).find(([name]) => /^itemsPut:.*things$/.test(name));
    const thingsWrites = Object.entries(units).find(([name]) => /^writeUnits:.*things$/.test(name));
    expect(thingsItems?.[1]).toBeGreaterThan(0);
    expect(thingsItems?.[1]).toBeLessThanOrEqual(1 / 5);
    expect(thingsWrites?.[1]).toBeCloseTo(thingsItems?.[1] ?? 0, 10);
    expect(units.lambdaInvocations).toBeGreaterThan(0);
    expect(Object.keys(result.totals).sort()).toEqual(['on-demand', 'provisioned']);
    expect(result.totals['on-demand']).toBeGreaterThan(result.totals.provisioned ?? Infinity);
  }, 150_000);

  test("the report's sample (100 sensors × 200 readings, batches of 500, default configuration) puts at least 10 readings in each things-table item", async () => {
    // The defaults, whatever the checkout's platform.config.json says; the same synth the local platform's tests run.
    const config = path.join(dir, 'defaults.config.json');
    writeFileSync(config, '{}');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tools/cost.ts', '--json', '--config', config, '--sensors', '100', '--readings', '200', '--batch', '500'], { cwd: PROJECT_ROOT, timeout: 240_000 });
    const result = JSON.parse(stdout) as { sample: { readings: number }; perReading: Record<string, number> };
    expect(result.sample.readings).toBe(20_000);
    const thingsItems = Object.entries(result.perReading).find(([name]) => /^itemsPut:.*things$/.test(name));
    expect(thingsItems?.[1]).toBeGreaterThan(0);
    expect(thingsItems?.[1]).toBeLessThanOrEqual(1 / 10);
  }, 300_000);
});
