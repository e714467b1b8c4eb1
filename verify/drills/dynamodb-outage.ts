/**
 * Drill: the DynamoDB emulator stops answering for 10 s while readings keep arriving.
 * The ingest API keeps taking them (it only needs Kinesis); both consumers must wait the
 * outage out and, once the table is back, store every reading and send every alert
 * exactly once: nothing discarded, nothing in the failure queue, nothing twice.
 */
import { DEFAULT_ALERT_COOLDOWN_SECONDS } from '../../handlers/contract';
import { setThresholds } from '../../tools/threshold-store';
import { check, type Drill } from '../drill';
import { auditRollups, rollupsCheck } from '../rollup-audit';
import { auditAlerts, compareKeys, count, drillReadings, expectedKeys, expectedNotices, overRecentMinutes, sendBatches, sleep, storedKeys, waitForQuiet, withDrillPlatform } from '../probe';

const READINGS = 3_000;
const PER_REQUEST = 100;
/** Sending takes about READINGS / PER_REQUEST * SEND_INTERVAL_MS = 15 s, the outage 10 s of it. */
const SEND_INTERVAL_MS = 500;
const OUTAGE_MS = 10_000;
const OUTAGE_STARTS_AFTER_MS = 2_500;
const ALARMED_THING = 'things/outage-drill/000';
const ALARMED_SERIES = `${ALARMED_THING}/temperature`;
const THRESHOLDS = { max: 25 };

/** Thing 000 runs hot twice, once across the outage: two breaches and two recoveries. */
const temperature = (index: number): number => ((index >= 800 && index < 1_600) || (index >= 2_400 && index < 2_700) ? 30 : 20 + (index % 40) / 10);

export const dynamodbOutageDrill: Drill = {
  id: 'dynamodb-outage',
  title: 'DynamoDB unreachable for 10 s mid-stream: every reading arrives once it is back, nothing duplicated',
  async run({ workDir, log = () => undefined }) {
    return withDrillPlatform(workDir, async (drill) => {
      await setThresholds(drill.dynamo, drill.platform.tables.thresholds, ALARMED_SERIES, THRESHOLDS);
      // Dated now, so every step of rollups is kept (older readings are rolled up by hour and day only).
      const readings = drillReadings(READINGS, { prefix: 'outage-drill', value: temperature, ...overRecentMinutes(READINGS) });

      let outage: Promise<{ down: number; up: number; backlog: number }> | undefined;
      let sent = 0;
      const sendStarted = Date.now();
      for (let start = 0; start < readings.length; start += PER_REQUEST) {
        if (outage === undefined && Date.now() - sendStarted >= OUTAGE_STARTS_AFTER_MS) {
          outage = (async () => {
            await drill.platform.faults.interruptDynamoDB();
            const down = Date.now();
            log(`dynamodb-outage: DynamoDB down after ${start} readings sent`);
            await sleep(OUTAGE_MS);
            await drill.platform.faults.restoreDynamoDB();
            const up = Date.now();
            // Readings acknowledged but not yet stored when the table came back: what the consumers must catch up on.
            const backlog = expectedKeys(readings.slice(0, sent)).size - (await storedKeys(drill)).size;
            log(`dynamodb-outage: DynamoDB back with ${backlog} items waiting`);
            return { down, up, backlog };
          })();
        }
        await sendBatches(drill.platform, readings.slice(start, start + PER_REQUEST), PER_REQUEST);
        sent = Math.min(readings.length, start + PER_REQUEST);
        await sleep(SEND_INTERVAL_MS);
      }
      const window = outage === undefined ? undefined : await outage;
      const quiet = await waitForQuiet(drill, 120_000);

      const stored = compareKeys(expectedKeys(readings), await storedKeys(drill));
      const rollups = await auditRollups(drill);
      const consumers = drill.platform.consumers();
      const alerts = await auditAlerts(
        drill,
        ALARMED_SERIES,
        expectedNotices(readings, ALARMED_SERIES, THRESHOLDS, DEFAULT_ALERT_COOLDOWN_SECONDS),
        drill.platform.alerts(),
      );
      const failureQueue = drill.platform.failureQueue().length;
      const discarded = Object.values(consumers).reduce((sum, stats) => sum + stats.recordsDiscarded, 0);
      const describeConsumers = Object.entries(consumers)
        .map(([name, stats]) => `${name}: ${stats.invocations} invocations, ${stats.retries} retries, ${stats.recordsDiscarded} discarded`)
        .join('; ');

      return {
        checks: [
          check('DynamoDB was down for 10 s while readings kept arriving', window !== undefined && window.up - window.down >= OUTAGE_MS, window === undefined ? 'the outage never started' : `down ${((window.up - window.down) / 1000).toFixed(1)} s`),
          check('the outage held readings back', (window?.backlog ?? 0) > 0, `${count(window?.backlog ?? 0)} items acknowledged but not stored when DynamoDB came back`),
          check('the pipeline drained after the outage', quiet, quiet ? 'both consumers idle, table stable' : 'still busy after 120 s'),
          check('every reading is stored, nothing else', stored.found === readings.length && stored.unexpected.length === 0, `${count(stored.found)} of ${count(readings.length)} stored; ${stored.unexpected.length} unexpected`),
          rollupsCheck(rollups),
          check('nothing was given up on', discarded === 0 && failureQueue === 0, `${discarded} records discarded, ${failureQueue} messages in the failure queue; ${describeConsumers}`),
          check('the alert history is exactly what the rule says', alerts.historyMatches, alerts.detail),
          check('each alert was sent once', alerts.sentOnce, alerts.detail),
        ],
        readings: { sent: readings.length, stored: stored.found, failureQueue },
      };
    });
  },
};
