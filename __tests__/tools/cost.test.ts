import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { sampleReadings } from '../../tools/cost';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

describe('sampleReadings', () => {
  test('every reading is exactly the size asked for, round-robin over the sensors', () => {
    const readings = sampleReadings(3, 4, 120);
    expect(readings).toHaveLength(12);
    for (const reading of readings) expect(Buffer.byteLength(JSON.stringify(reading))).toBe(120);
    expect(new Set(readings.map((reading) => reading.id)).size).toBe(3);
    expect(readings[0]?.id).toBe(readings[3]?.id);
  });

  test('a size below the smallest reading is refused with the smallest size', () => {
    expect(() => sampleReadings(1, 1, 20)).toThrow(/cannot be as small as 20 bytes: the smallest this tool sends is \d+/);
  });
});

describe('npm run cost -- --json', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cost-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a tiny mix measures what the pipeline does per reading today: one stream record, one Firehose record, one table item', async () => {
    // A one-second batching window keeps the run short; everything else is the default configuration.
    const config = path.join(dir, 'platform.config.json');
    writeFileSync(config, JSON.stringify({ consumers: { batchWindowSeconds: 1 } }));
    const { stdout } = await run('npx', ['tsx', 'tools/cost.ts', '--json', '--config', config, '--sensors', '10', '--readings', '20', '--batch', '50'], { cwd: ROOT, timeout: 120_000 });
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
    expect(units.streamRecords).toBe(1);
    expect(units.putPayloadUnits).toBe(1);
    // Every record is read by the two consumers and the archive.
    expect(units.streamBytesRead).toBeCloseTo(3 * (units.streamBytes ?? 0), 6);
    expect(units.firehoseRecords).toBe(1);
    expect(units.firehoseBilledBytes).toBe(5 * 1024);
    // One small item per reading in the things table, whatever its name prefix.
    const thingsWrites = Object.entries(units).find(([name]) => /^writeUnits:.*things$/.test(name));
    expect(thingsWrites?.[1]).toBe(1);
    expect(units.lambdaInvocations).toBeGreaterThan(0);
    expect(Object.keys(result.totals).sort()).toEqual(['on-demand', 'provisioned']);
    expect(result.totals['on-demand']).toBeGreaterThan(result.totals.provisioned ?? Infinity);
  }, 150_000);
});
