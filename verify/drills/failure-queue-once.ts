/**
 * Drill: bad records in batches that Lambda delivers again and again. The readings table
 * is missing when the batches arrive (the writes fail outright, the store consumer hands
 * each batch back and the event source retries it), then comes back. Every good reading
 * must end up stored, and every bad record must be in the failure queue exactly once,
 * however many times its batch was delivered: a retried batch once left six copies of
 * each rejection in the queue.
 */
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { FailureMessageBody } from '../../handlers/store-plan';
import { check, type Drill, type DrillCheck } from '../drill';
import { compareKeys, consumerStats, count, drillReadings, expectedKeys, pollUntil, putRawRecords, storedKeys, waitForQuiet, withDrillPlatform } from '../probe';

const GOOD_READINGS = 400;
const BAD_EVERY = 10;

/** A distinct bad record for position `n`, one of four reasons. */
function badRecord(n: number): { data: string; code: string } {
  const id = `things/once-drill/bad-${n}`;
  const at = new Date(Date.UTC(2024, 4, 1, 0, 0, 0, n)).toISOString();
  return [
    { data: `{"id":"${id}","timestamp":`, code: 'not-json' },
    { data: JSON.stringify({ id, timestamp: at }), code: 'no-metrics' },
    { data: JSON.stringify({ id, timestamp: at, temperature: `warm-${n}` }), code: 'bad-metric-value' },
    { data: JSON.stringify({ id, timestamp: '9999-12-31T00:00:00Z', temperature: n }), code: 'future-timestamp' },
  ][n % 4] as { data: string; code: string };
}

export const failureQueueOnceDrill: Drill = {
  id: 'failure-queue-once',
  title: 'batches with bad records retried while the readings table is missing: every good reading stored, every bad record queued exactly once',
  async run({ workDir, log = () => undefined }) {
    return withDrillPlatform(workDir, async (drill) => {
      const things = drill.platform.tables.things;
      const good = drillReadings(GOOD_READINGS, { prefix: 'once-drill', things: 8 });
      const bad = Array.from({ length: GOOD_READINGS / BAD_EVERY }, (_, n) => badRecord(n));
      const records = good.flatMap((reading, index) => [
        { partitionKey: String(reading.id), data: JSON.stringify(reading) },
        ...(index % BAD_EVERY === BAD_EVERY - 1 ? [{ partitionKey: `things/once-drill/bad-${index}`, data: (bad[Math.floor(index / BAD_EVERY)] as { data: string }).data }] : []),
      ]);

      // Recreated later exactly as the stack made it.
      const { Table: made } = await drill.dynamo.send(new DescribeTableCommand({ TableName: things }));
      await drill.dynamo.send(new DeleteTableCommand({ TableName: things }));
      await putRawRecords(drill, records);
      log(`failure-queue-once: ${count(good.length)} good and ${bad.length} bad records on the stream, the readings table deleted`);
      // Let the store consumer fail and be retried a few times (of its 5), then bring the table back.
      const retried = await pollUntil(async () => ((consumerStats(drill.platform, 'store-readings').retries) >= 2 ? true : undefined), 30_000, 50);
      await drill.dynamo.send(new CreateTableCommand({ TableName: things, KeySchema: made?.KeySchema, AttributeDefinitions: made?.AttributeDefinitions, BillingMode: 'PAY_PER_REQUEST' }));
      await pollUntil(async () => ((await drill.dynamo.send(new DescribeTableCommand({ TableName: things }))).Table?.TableStatus === 'ACTIVE' ? true : undefined), 10_000, 20);
      log(`failure-queue-once: the table is back after ${consumerStats(drill.platform, 'store-readings').retries} retries`);
      const quiet = await waitForQuiet(drill, 60_000);

      const stored = compareKeys(expectedKeys(good), await storedKeys(drill));
      const queued = drill.platform.failureQueue().map((message) => JSON.parse(message.body) as Partial<FailureMessageBody>);
      const copies = bad.map((entry) => queued.filter((message) => message.payload === entry.data));
      const notOnce = copies.flatMap((found, n) => (found.length === 1 ? [] : [`bad-${n} (${bad[n]?.code}): ${found.length} copies`]));
      const wrongReason = copies.flatMap((found, n) => (found.length === 1 && found[0]?.reason?.code !== bad[n]?.code ? [`bad-${n}: ${found[0]?.reason?.code}`] : []));
      const stats = consumerStats(drill.platform, 'store-readings');

      const checks: DrillCheck[] = [
        check('the store consumer was handed its batches back and retried them', retried === true && (stats?.retries ?? 0) >= 2, `${stats?.retries ?? 0} retries, ${stats?.invocations ?? 0} invocations`),
        check('the pipeline drained once the table was back', quiet, quiet ? 'both consumers idle, table stable' : 'still busy after 60 s'),
        check('every good reading is stored, nothing else', stored.found === good.length && stored.unexpected.length === 0, `${count(stored.found)} of ${count(good.length)} stored; ${stored.unexpected.length} unexpected`),
        check('every bad record is in the failure queue exactly once', notOnce.length === 0, notOnce.length === 0 ? `${bad.length} of ${bad.length} once, across ${stats?.retries ?? 0} retries` : notOnce.slice(0, 5).join('; ')),
        check('each with its reason', wrongReason.length === 0, wrongReason.length === 0 ? [...new Set(bad.map((entry) => entry.code))].join(', ') : wrongReason.slice(0, 5).join('; ')),
        check('the failure queue holds nothing else, and nothing was given up on', queued.length === bad.length && (stats?.recordsDiscarded ?? 0) === 0, `${queued.length} messages for ${bad.length} bad records; ${stats?.recordsDiscarded ?? 0} records discarded`),
      ];
      return { checks, readings: { sent: records.length, stored: stored.found, failureQueue: queued.length } };
    });
  },
};
