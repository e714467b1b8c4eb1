/**
 * Drill: records the reading model refuses, mixed into a stream of good ones by a producer
 * that writes to Kinesis directly (the ingest API would refuse them at the door).
 * Every good reading must be stored, every bad record must reach the failure queue once
 * with its reason, and neither consumer may stall on them (no retries, nothing discarded).
 */
import { type ReadingErrorCode } from '../../handlers/reading-error';
import { READING_LIMITS } from '../../handlers/reading-patterns';
import type { FailureMessageBody } from '../../handlers/store-plan';
import { check, type Drill, type DrillCheck } from '../drill';
import { compareKeys, count, drillReadings, expectedKeys, putRawRecords, storedKeys, waitForQuiet, withDrillPlatform } from '../probe';

interface Poison {
  readonly kind: string;
  readonly data: string | Uint8Array;
  /** The reason the failure queue must give. */
  readonly code: ReadingErrorCode;
  /** What the failure message carries, when not the whole record: the bad reading of a packed record. */
  readonly payload?: string;
}

const deeplyNested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** One of each way a record can be unusable; `n` makes each copy distinct. */
function poisonKinds(n: number): Poison[] {
  const id = `things/poison/${n}`;
  const at = new Date(Date.UTC(2024, 4, 2, 0, 0, n)).toISOString();
  return [
    { kind: 'truncated JSON', data: `{"id":"${id}","temperature":`, code: 'not-json' },
    { kind: 'invalid UTF-8 bytes', data: Uint8Array.from([0xff, 0xfe, 0xfd, n % 256]), code: 'bad-encoding' },
    // A packed record (an array of readings) whose one reading is a number: queued as that reading.
    { kind: 'number in a packed record', data: `[${n}]`, payload: String(n), code: 'not-object' },
    { kind: 'no timestamp', data: JSON.stringify({ id, temperature: '20.1' }), code: 'missing-field' },
    { kind: 'impossible date', data: JSON.stringify({ id, temperature: '20.1', timestamp: `2016-02-30 10:00:${String(n % 60).padStart(2, '0')}` }), code: 'bad-timestamp' },
    { kind: 'non-numeric value', data: JSON.stringify({ id, temperature: `hot-${n}`, timestamp: at }), code: 'bad-metric-value' },
    { kind: 'no metrics', data: JSON.stringify({ id, timestamp: at }), code: 'no-metrics' },
    {
      kind: 'too many metrics',
      data: JSON.stringify({ id, timestamp: at, ...Object.fromEntries(Array.from({ length: READING_LIMITS.maxMetrics + 1 }, (_, index) => [`m${index}`, index])) }),
      code: 'too-many-metrics',
    },
    { kind: 'control character in id', data: JSON.stringify({ id: `things/poison/\u0007${n}`, temperature: '20.1', timestamp: at }), code: 'bad-id' },
    { kind: '10,000-deep nesting', data: `{"id":"${id}","timestamp":"${at}","deep":${deeplyNested(10_000)}}`, code: 'bad-metric-value' },
  ];
}

const GOOD_READINGS = 1_000;
const COPIES_OF_EACH_POISON = 6;

export const poisonRecordsDrill: Drill = {
  id: 'poison',
  title: 'poison records mixed into good ones: good stored, bad in the failure queue with reasons, no stall',
  async run({ workDir, log = () => undefined }) {
    return withDrillPlatform(workDir, async (drill) => {
      const good = drillReadings(GOOD_READINGS, { prefix: 'poison-drill' });
      const poison = Array.from({ length: COPIES_OF_EACH_POISON }, (_, copy) => poisonKinds(copy)).flat();
      // Spread the poison evenly through the good records, on the shards their ids hash to.
      const every = Math.floor(good.length / poison.length);
      const records: { partitionKey: string; data: string | Uint8Array }[] = [];
      good.forEach((reading, index) => {
        records.push({ partitionKey: String(reading.id), data: JSON.stringify(reading) });
        const bad = index % every === 0 ? poison[index / every] : undefined;
        if (bad !== undefined) records.push({ partitionKey: `things/poison/${bad.kind}`, data: bad.data });
      });
      log(`poison: putting ${count(good.length)} good and ${poison.length} poison records on the stream`);
      await putRawRecords(drill, records);
      const quiet = await waitForQuiet(drill, 60_000);

      const stored = compareKeys(expectedKeys(good), await storedKeys(drill));
      const queued = drill.platform.failureQueue().map((message) => JSON.parse(message.body) as Partial<FailureMessageBody>);
      const payloadOf = (data: string | Uint8Array) => (typeof data === 'string' ? { payload: data, payloadEncoding: 'utf8' } : { payload: Buffer.from(data).toString('base64'), payloadEncoding: 'base64' });
      const unmatched: string[] = [];
      const wrongReason: string[] = [];
      for (const bad of poison) {
        const expected = payloadOf(bad.payload ?? bad.data);
        const found = queued.filter((message) => message.payload === expected.payload && message.payloadEncoding === expected.payloadEncoding);
        if (found.length !== 1) unmatched.push(`${bad.kind} (${found.length} messages)`);
        else if (found[0]?.reason?.code !== bad.code || !found[0]?.reason?.message) wrongReason.push(`${bad.kind}: ${found[0]?.reason?.code ?? 'no reason'} instead of ${bad.code}`);
      }
      const consumers = drill.platform.consumers();
      const stalls = Object.entries(consumers).filter(([, stats]) => stats.retries > 0 || stats.recordsDiscarded > 0 || stats.recordsDone !== records.length);

      const checks: DrillCheck[] = [
        check('the pipeline drained', quiet, quiet ? 'both consumers idle, table stable' : 'still busy after 60 s'),
        check('every good reading is stored, nothing else', stored.found === good.length && stored.unexpected.length === 0, `${count(stored.found)} of ${count(good.length)} stored; ${stored.unexpected.length} unexpected; missing e.g. ${stored.missing.slice(0, 3).join(', ') || 'none'}`),
        check('every poison record is in the failure queue exactly once', unmatched.length === 0, unmatched.length === 0 ? `${poison.length} of ${poison.length} (${poisonKinds(0).length} kinds)` : `not exactly once: ${unmatched.slice(0, 5).join('; ')}`),
        check('each carries the right reason', wrongReason.length === 0, wrongReason.length === 0 ? 'reason codes and messages match' : wrongReason.slice(0, 5).join('; ')),
        check('the failure queue holds nothing else', queued.length === poison.length, `${queued.length} messages for ${poison.length} poison records`),
        check(
          'no consumer stalled, retried or discarded',
          stalls.length === 0,
          Object.entries(consumers)
            .map(([name, stats]) => `${name}: ${count(stats.recordsDone)} done, ${stats.retries} retries, ${stats.recordsDiscarded} discarded`)
            .join('; '),
        ),
      ];
      return {
        checks,
        readings: { sent: records.length, stored: stored.found, failureQueue: queued.length },
      };
    });
  },
};
