/**
 * Drill: a burst of 1,000 breaching readings for one series, two batch requests back to
 * back. The series must get one alert per cooldown (the breach, then a reminder
 * each time a cooldown of reading time has passed), the alert history must list exactly
 * those, and each must have been published once.
 */
import { DEFAULT_ALERT_COOLDOWN_SECONDS } from '../../handlers/contract';
import { setThresholds } from '../../tools/threshold-store';
import { check, type Drill } from '../drill';
import { auditAlerts, compareKeys, drainedChecks, drillReadings, expectedKeys, expectedNotices, sendBatches, storedKeys, waitForQuiet, withDrillPlatform } from '../probe';

const BREACHING_READINGS = 1_000;
/** Reading times 2 s apart: the burst covers 2,000 s of the sensor's time, a little over two cooldowns of 900 s. */
const READING_SPACING_MS = 2_000;
const THING = 'things/burst-drill/000';
const SERIES = `${THING}/temperature`;
const THRESHOLDS = { min: 18, max: 25 };

export const alertBurstDrill: Drill = {
  id: 'alert-burst',
  title: '1,000 breaching readings for one series: one alert per cooldown, the history says so',
  async run({ workDir, log = () => undefined }) {
    return withDrillPlatform(workDir, async (drill) => {
      await setThresholds(drill.dynamo, drill.platform.tables.thresholds, SERIES, THRESHOLDS);
      const start = Date.UTC(2024, 5, 1);
      const readings = drillReadings(BREACHING_READINGS, { prefix: 'burst-drill', things: 1, value: (index) => 30 + (index % 7) }).map((reading, index) => ({
        ...reading,
        timestamp: new Date(start + index * READING_SPACING_MS).toISOString(),
      }));
      log(`alert-burst: ${BREACHING_READINGS} readings above ${THRESHOLDS.max} for ${SERIES}`);
      // Back to back in time order: the shard keeps that order, so the rule's replay is the exact expectation.
      await sendBatches(drill.platform, readings);
      const quiet = await waitForQuiet(drill, 60_000);

      const expected = expectedNotices(readings, SERIES, THRESHOLDS, DEFAULT_ALERT_COOLDOWN_SECONDS);
      const cooldowns = Math.ceil(((BREACHING_READINGS - 1) * READING_SPACING_MS) / (DEFAULT_ALERT_COOLDOWN_SECONDS * 1000));
      const alerts = await auditAlerts(drill, SERIES, expected, drill.platform.alerts());
      const stored = compareKeys(expectedKeys(readings), await storedKeys(drill));
      const failureQueue = drill.platform.failureQueue().length;
      return {
        checks: [
          ...drainedChecks(quiet, stored, readings.length),
          check(
            'one alert per cooldown',
            expected.length === cooldowns && expected[0]?.kind === 'breach' && expected.slice(1).every((notice) => notice.kind === 'reminder'),
            `${expected.length} notices (${expected.map((notice) => notice.kind).join(', ')}) over ${cooldowns} cooldowns of ${DEFAULT_ALERT_COOLDOWN_SECONDS} s`,
          ),
          check('the alert history lists exactly those', alerts.historyMatches, alerts.detail),
          check('each was sent once', alerts.sentOnce, alerts.detail),
        ],
        readings: { sent: readings.length, stored: stored.found, failureQueue },
      };
    });
  },
};
