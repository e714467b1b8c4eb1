/**
 * Drill: readings dated ahead of their arrival, and alert state left pinned by them.
 * A sensor with a wrong clock sends a breach and a recovery dated in the year 9999, and a
 * reading an hour ahead; another series carries the state an older version left behind
 * after such readings (alert state and latest value dated 9999). Neither may switch
 * alerts off or show a false latest value: the dated-ahead readings go to the failure
 * queue with their own reason, the real breach and recovery after them are alerted, and
 * both series show their real latest reading.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { alertStatus } from '../../handlers/alert-rules';
import { thresholdStateUpdate } from '../../handlers/alert-state-item';
import { ATTRIBUTES, DEFAULT_ALERT_COOLDOWN_SECONDS } from '../../handlers/contract';
import { seriesId } from '../../handlers/reading-item';
import { normaliseTimestamp } from '../../handlers/reading-timestamp';
import type { FailureMessageBody } from '../../handlers/store-plan';
import { setThresholds } from '../../tools/threshold-store';
import { check, type Drill, type DrillCheck } from '../drill';
import { auditAlerts, compareKeys, expectedKeys, expectedNotices, scanTable, sendBatches, storedKeys, waitForQuiet, withDrillPlatform } from '../probe';

const CLOCK_WRONG = 'things/future-drill/clock';
const PINNED = 'things/future-drill/pinned';
const THRESHOLDS = { max: 25 };
const YEAR_9999 = '9999-12-31T00:00:00.000000Z';

const iso = (ms: number) => new Date(ms).toISOString();

export const futureReadingsDrill: Drill = {
  id: 'future-readings',
  title: 'readings dated far ahead (year 9999, an hour) and state they once pinned: queued with their reason, alerts and latest values follow real time',
  async run({ workDir, log = () => undefined }) {
    return withDrillPlatform(workDir, async (drill) => {
      const { tables } = drill.platform;
      const now = Date.now();
      const watched = [seriesId(CLOCK_WRONG, 'temperature'), seriesId(PINNED, 'temperature')];
      for (const series of watched) await setThresholds(drill.dynamo, tables.thresholds, series, THRESHOLDS);
      // What an older version left after a 9999 breach and recovery: state, history and latest value dated 9999.
      const pinned = watched[1] as string;
      await drill.dynamo.send(
        new PutCommand({
          TableName: tables.thresholds,
          Item: { [ATTRIBUTES.series]: pinned, [ATTRIBUTES.maxThreshold]: THRESHOLDS.max, ...thresholdStateUpdate(alertStatus('ok', undefined, YEAR_9999, YEAR_9999)).set },
        }),
      );
      await drill.dynamo.send(new PutCommand({ TableName: tables.series, Item: { [ATTRIBUTES.series]: pinned, [ATTRIBUTES.latestTimestamp]: YEAR_9999, [ATTRIBUTES.latestValue]: 20 } }));

      const ahead = [
        { id: CLOCK_WRONG, timestamp: '9999-12-31T00:00:00Z', temperature: 30 },
        { id: CLOCK_WRONG, timestamp: '9999-12-31T00:00:01Z', temperature: 20 },
        { id: CLOCK_WRONG, timestamp: iso(now + 3_600_000), temperature: 31 },
      ];
      // Real readings: a breach, then a recovery dated a minute ahead (a fast clock, inside the tolerance).
      const real = [CLOCK_WRONG, PINNED].flatMap((id) => [
        { id, timestamp: iso(now - 60_000), temperature: 30 },
        { id, timestamp: iso(now + 60_000), temperature: 20 },
      ]);
      await sendBatches(drill.platform, [...ahead, ...real]);
      log(`future-readings: ${ahead.length} readings dated ahead and ${real.length} real ones sent`);
      const quiet = await waitForQuiet(drill, 60_000);

      const queued = drill.platform.failureQueue().map((message) => JSON.parse(message.body) as Partial<FailureMessageBody>);
      const queuedAhead = queued.filter((message) => message.reason?.code === 'future-timestamp');
      const stored = await storedKeys(drill);
      const aheadStored = [...expectedKeys(ahead)].filter((key) => stored.has(key));
      const realStored = compareKeys(expectedKeys(real), stored);
      const audits = await Promise.all(
        watched.map((series) => auditAlerts(drill, series, expectedNotices(real, series, THRESHOLDS, DEFAULT_ALERT_COOLDOWN_SECONDS), drill.platform.alerts().filter((message) => message.message.includes(series.replace(/\/temperature$/, ''))))),
      );
      const latest = new Map((await scanTable(drill, 'series')).map((item) => [String(item[ATTRIBUTES.series]), String(item[ATTRIBUTES.latestTimestamp])]));
      const realLatest = normaliseTimestamp(iso(now + 60_000));
      const latestWrong = watched.filter((series) => !realLatest.ok || latest.get(series) !== realLatest.value);
      const overview = await fetch(`${drill.platform.urls.web}/api/series`).then((response) => response.json() as Promise<{ series: { series: string; latestTimestamp: string; status: string }[] }>);
      const shown = overview.series.filter((entry) => watched.includes(entry.series)).map((entry) => `${entry.series.split('/')[2]} ${entry.status} at ${entry.latestTimestamp.slice(11, 19)}`);

      const checks: DrillCheck[] = [
        check('the pipeline drained', quiet, quiet ? 'both consumers idle, table stable' : 'still busy after 60 s'),
        check(
          'every reading dated past the tolerance is in the failure queue once, as future-timestamp, and not stored',
          queuedAhead.length === ahead.length && queued.length === ahead.length && aheadStored.length === 0,
          `${queuedAhead.length} of ${ahead.length} queued (${queued.length} messages in all), ${aheadStored.length} stored; e.g. ${queuedAhead[0]?.reason?.message ?? 'none'}`,
        ),
        check('every real reading is stored', realStored.found === real.length, `${realStored.found} of ${real.length}`),
        ...watched.map((_series, index) =>
          check(
            `${index === 0 ? 'after year-9999 readings' : 'from a state pinned to 9999 by an older version'}, the real breach and recovery are alerted once each`,
            (audits[index]?.historyMatches ?? false) && (audits[index]?.sentOnce ?? false),
            audits[index]?.detail ?? '',
          ),
        ),
        check(
          'each series shows its real latest reading, not a dated-ahead one',
          latestWrong.length === 0 && shown.length === watched.length && shown.every((entry) => entry.includes(' ok at ')),
          `catalogue ${watched.map((series) => latest.get(series) ?? 'missing').join(', ')}; dashboard ${shown.join('; ')}`,
        ),
      ];
      return { checks, readings: { sent: ahead.length + real.length, stored: realStored.found, failureQueue: queued.length } };
    });
  },
};
