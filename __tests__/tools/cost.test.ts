import { leadInReadings, minuteOfReadings, samplePace, sampleReadings, steadyStateStart, warmUpReadings } from '../../tools/cost-sample';

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
