import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { javaStringHash } from '../../local/api-gateway/vtl-util';
import { READING_STREAM_LIMITS } from '../../stacks/construct-defaults';
import { leadInReadings, minuteOfReadings, samplePace, sampleReadings, steadyStateStart, warmUpReadings } from '../../tools/cost-sample';

const floorMod = (value: number, modulus: number): number => ((value % modulus) + modulus) % modulus;

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

  test('a sensor keeps one thing id whether or not its timestamp has a fraction (printed without one on a whole second)', () => {
    const readings = sampleReadings(2, 20, 100, { startMicros: 1_700_000_000_000_000, intervalMicros: 100_000 });
    expect(readings.filter((reading) => !String(reading.timestamp).includes('.'))).toHaveLength(4);
    expect(new Set(readings.map((reading) => reading.id)).size).toBe(2);
    for (const reading of readings) expect(Buffer.byteLength(JSON.stringify(reading))).toBe(String(reading.timestamp).includes('.') ? 100 : 93);
  });

  test('readings of a sensor are the schedule\'s interval apart', () => {
    const readings = sampleReadings(3, 2, 100, { startMicros: 1_700_000_000_000_000, intervalMicros: 250_000 });
    expect(readings.map((reading) => reading.timestamp)).toEqual([...Array(3).fill('2023-11-14 22:13:20'), ...Array(3).fill('2023-11-14 22:13:20.250000')]);
  });

  test('a size below the smallest reading is refused with the smallest size', () => {
    expect(() => sampleReadings(1, 1, 20)).toThrow(/cannot be as small as 20 bytes: the smallest this tool sends is \d+/);
  });
});

describe('the steady state a sample is measured in', () => {
  test('a fleet sharing the rate sends each sensor rate ÷ fleet readings a second; a consumer batch gathers the batching window of them, at least the one-second poll', () => {
    const fleet = { sensors: 10_000, megabytesPerSecond: 10, readingBytes: 100, batchWindowSeconds: 5, streamReaders: 3 };
    expect(samplePace(fleet)).toEqual({ readingsPerSecond: 10, batchSeconds: 5, readingsPerBatch: 50 });
    expect(samplePace({ ...fleet, batchWindowSeconds: 0 })).toEqual({ readingsPerSecond: 10, batchSeconds: 1, readingsPerBatch: 10 });
    expect(samplePace({ ...fleet, megabytesPerSecond: 0.1 }).readingsPerBatch).toBe(1);
  });

  test('a batch is cut short when its records reach Lambda\'s 6 MB payload, base64-encoded, over the shards the rate needs (2 MiB/s out each, shared by every reader)', () => {
    // 10 MB/s read three times needs 15 shards: 0.67 MB/s a shard, 0.89 MB/s in base64 with the record fields (1.34 × data + 512 bytes), so 6 MiB in 7.04 s.
    const pace = samplePace({ sensors: 10_000, megabytesPerSecond: 10, readingBytes: 100, batchWindowSeconds: 30, streamReaders: 3 });
    expect(pace.batchSeconds).toBeCloseTo((6 * 2 ** 20) / ((10e6 / 15) * 1.34 + 512), 6);
    expect(pace.readingsPerBatch).toBe(70);
  });

  test('the sample starts at half past noon the day before, after a warm-up of one reading in each earlier hour of that day and each earlier minute of that hour but the last, then a lead-in minute at the pace', () => {
    const now = Date.parse('2026-12-01T03:04:05Z');
    const start = steadyStateStart(now);
    expect(new Date(start / 1000).toISOString()).toBe('2026-11-30T12:30:00.000Z');
    const warmUp = warmUpReadings(2, 100, start);
    expect(warmUp).toHaveLength(2 * (12 + 29));
    const times = [...new Set(warmUp.map((reading) => String(reading.timestamp)))];
    expect(times.filter((time) => time.endsWith(':00:00')).map((time) => time.slice(11, 13))).toEqual(['00', '01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12']);
    expect(times.filter((time) => time.startsWith('2026-11-30 12:'))).toHaveLength(29);
    expect(times.every((time) => time < '2026-11-30 12:29:00')).toBe(true);
    // The lead-in fills 12:29 at the pace (10 a second here), so the sample's first batch writes a whole minute's rollups.
    const leadIn = leadInReadings(2, 1000, 100, start, 100_000);
    expect(leadIn).toHaveLength(2 * 600);
    expect([leadIn[0]?.timestamp, leadIn.at(-1)?.timestamp]).toEqual(['2026-11-30 12:29:00', '2026-11-30 12:29:59.900000']);
    // A sample shorter than a minute is no measure of the once-a-minute work, and gets none.
    expect(leadInReadings(2, 200, 100, start, 100_000)).toEqual([]);
    expect(minuteOfReadings({ sensors: 10_000, megabytesPerSecond: 10, readingBytes: 100 })).toBe(600);
    // The warm-up's sensors are the sample's.
    expect(new Set(warmUp.map((reading) => reading.id))).toEqual(new Set(sampleReadings(2, 1, 100, { startMicros: start, intervalMicros: 1 }).map((reading) => reading.id)));
  });
});

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
    const { stdout } = await run('npx', ['tsx', 'tools/cost.ts', '--json', '--config', config, '--sensors', '100', '--readings', '200', '--batch', '500'], { cwd: ROOT, timeout: 240_000 });
    const result = JSON.parse(stdout) as { sample: { readings: number }; perReading: Record<string, number> };
    expect(result.sample.readings).toBe(20_000);
    const thingsItems = Object.entries(result.perReading).find(([name]) => /^itemsPut:.*things$/.test(name));
    expect(thingsItems?.[1]).toBeGreaterThan(0);
    expect(thingsItems?.[1]).toBeLessThanOrEqual(1 / 10);
  }, 300_000);
});
