/**
 * The readings `npm run cost` sends, and the pace of the fleet they stand for: sized
 * readings dated a sensor's interval apart, the warm-up that puts rollups in their average
 * state, the minute at the full rate before the sample, and how many readings of a series
 * a consumer batch gathers at the full rate.
 */
import { MAX_PAYLOAD_BYTES, recordPayloadBytes } from '../handlers/contract';
import { thingIdProblem, UsageError } from './cli';
import { shardsNeeded } from './cost-model';
import { seedTimestamp } from './synthetic';

/** When the sample's readings are dated: the first one, and the time between two readings of a sensor. */
export interface SampleSchedule {
  readonly startMicros: number;
  readonly intervalMicros: number;
}

/**
 * Each sensor's thing id, lengthened so that its readings are `bytes` bytes of JSON (every
 * reading one metric, like the 2016 report's): sized for a timestamp with a fraction, so a
 * reading on a whole second (printed without one) is that much shorter, under the same id.
 */
function sizedIds(sensors: number, bytes: number): string[] {
  const ids = Array.from({ length: sensors }, (_, sensor) => {
    const id = `things/cost/${String(sensor).padStart(5, '0')}`;
    const missing = bytes - Buffer.byteLength(JSON.stringify(reading(id, 0, 1)));
    if (missing < 0) throw new UsageError(`readings cannot be as small as ${bytes} bytes: the smallest this tool sends is ${bytes - missing}`);
    return missing > 0 ? `${id}-${'x'.repeat(missing - 1)}` : id;
  });
  const problem = thingIdProblem(ids.at(-1) ?? '');
  if (problem !== undefined) throw new UsageError(`readings of ${bytes} bytes need thing ids the ingest API refuses: ${problem}`);
  return ids;
}

/** A reading of one metric: its value text is always five characters wide. */
const reading = (id: string, value: number, timestampMicros: number): Record<string, string> => ({ id, temperature: (18 + (value % 800) / 100).toFixed(2), timestamp: seedTimestamp(timestampMicros) });

/**
 * `perSensor` readings of each of `sensors`, round-robin over the sensors (each round one
 * reading of every sensor, `intervalMicros` after the round before), `bytes` bytes of JSON each.
 */
export function sampleReadings(sensors: number, perSensor: number, bytes: number, schedule: SampleSchedule = { startMicros: Date.now() * 1000, intervalMicros: 1000 }): Record<string, string>[] {
  const ids = sizedIds(sensors, bytes);
  return Array.from({ length: sensors * perSensor }, (_, index) => reading(ids[index % sensors] as string, index, schedule.startMicros + Math.floor(index / sensors) * schedule.intervalMicros));
}

const HOUR_MICROS = 3_600_000_000;
const MINUTE_MICROS = 60_000_000;
/** Hours of its day, and minutes of its hour, that a series has rollups for when the sample starts: half of each, the average over a day (the last minute is the lead-in). */
const WARM_HOURS = 12;
const WARM_MINUTES = 30;

/**
 * Where a steady-state sample starts: half past noon (UTC) of the day before `nowMs`, so the
 * warm-up (warmUpReadings) can fill that day's first half and that hour's first half.
 */
export function steadyStateStart(nowMs: number): number {
  const midnight = Math.floor(nowMs / 86_400_000) * 86_400_000 - 86_400_000;
  return midnight * 1000 + WARM_HOURS * HOUR_MICROS + WARM_MINUTES * MINUTE_MICROS;
}

/**
 * What each sample sensor has stored before the lead-in (leadInReadings) and the measured
 * sample start at `startMicros` (steadyStateStart): one reading in each of the day's first
 * twelve hours and in each of the hour's minutes before the lead-in. A series' hour rollup
 * then holds thirty minutes and its day rollup twelve hours, their average over a day, so
 * the measured writes are of items of average size (a write unit is 1 KB of the item, not
 * of the change), not of nearly empty ones.
 */
export function warmUpReadings(sensors: number, bytes: number, startMicros: number): Record<string, string>[] {
  const hourStart = startMicros - WARM_MINUTES * MINUTE_MICROS;
  const dayStart = hourStart - WARM_HOURS * HOUR_MICROS;
  const times = [...Array.from({ length: WARM_HOURS }, (_, hour) => dayStart + hour * HOUR_MICROS), ...Array.from({ length: WARM_MINUTES - 1 }, (_, minute) => hourStart + minute * MINUTE_MICROS)];
  const ids = sizedIds(sensors, bytes);
  return times.flatMap((micros, index) => ids.map((id) => reading(id, index, micros)));
}

/**
 * The minute before a sample of at least a minute (`perSensor` readings of each sensor), at
 * the fleet's pace, sent in rounds like the sample but not counted. A series' rollups are
 * written once a minute, by the first batch of the next one, which counts the whole minute
 * from its stored segments: after the lead-in, the sample's first batch does that work for
 * a minute like any other, and a sample of whole minutes (the default) has its share of it.
 * A shorter sample gets none, and is no measure of that work.
 */
export function leadInReadings(sensors: number, perSensor: number, bytes: number, startMicros: number, intervalMicros: number): Record<string, string>[] {
  const minute = Math.round(MINUTE_MICROS / intervalMicros);
  return perSensor < minute ? [] : sampleReadings(sensors, minute, bytes, { startMicros: startMicros - MINUTE_MICROS, intervalMicros });
}

/** Readings of one sensor in a minute at the fleet's pace: the sample's default, so it holds whole minutes. */
export const minuteOfReadings = (fleet: Pick<Fleet, 'sensors' | 'megabytesPerSecond' | 'readingBytes'>): number => Math.max(1, Math.round((60 * fleet.megabytesPerSecond * 1e6) / fleet.readingBytes / fleet.sensors));

/** How the fleet at the full rate paces a sample. */
export interface SamplePace {
  /** Readings a second of each sensor of the fleet at the rate. */
  readonly readingsPerSecond: number;
  /** Seconds of readings a store consumer batch gathers: the batching window, at least the one-second poll, at most what fills Lambda's 6 MB payload. */
  readonly batchSeconds: number;
  /** Readings of one sensor in one consumer batch, and in each round the sample is sent in. */
  readonly readingsPerBatch: number;
}

/** What the fleet sends and the stack reads it with. */
export interface Fleet {
  readonly sensors: number;
  readonly megabytesPerSecond: number;
  readonly readingBytes: number;
  readonly batchWindowSeconds: number;
  /** Event source mappings and delivery streams reading the stream: the shards needed carry all of them. */
  readonly streamReaders: number;
}

/**
 * The pace of a fleet sharing a rate: Lambda polls a shard once a second and gathers records
 * for the batching window or until the batch reaches 6 MB (records travel base64-encoded,
 * recordPayloadBytes, over the shards the rate needs), so a consumer batch holds `readings a
 * second of a sensor × batch seconds` of a series. What a batch costs per series (a segment,
 * rollups, the catalogue) is divided by that, so the sample is sent in rounds of that many
 * readings per sensor, each taken by the consumers before the next.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#kinesis-polling-and-batching
 */
export function samplePace(fleet: Fleet): SamplePace {
  const bytesPerSecond = fleet.megabytesPerSecond * 1e6;
  const readingsPerSecond = bytesPerSecond / fleet.readingBytes / fleet.sensors;
  // Records in are not known before measuring; at a few hundred readings a record they never set the need.
  const shards = shardsNeeded({ bytesIn: bytesPerSecond, recordsIn: 0, bytesOut: fleet.streamReaders * bytesPerSecond });
  // A shard's second of records taken as one record: their per-record overhead is small beside the data.
  const fullAfterSeconds = MAX_PAYLOAD_BYTES / recordPayloadBytes(bytesPerSecond / shards);
  const batchSeconds = Math.max(1, Math.min(fleet.batchWindowSeconds, fullAfterSeconds));
  return { readingsPerSecond, batchSeconds, readingsPerBatch: Math.max(1, Math.round(readingsPerSecond * batchSeconds)) };
}
