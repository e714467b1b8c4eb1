/**
 * Drill: a series hovering at its maximum, as the boiler that sent three emails in two
 * minutes did. Its rule waits 60 s of reading time before a breach fires (`--for 60`) and
 * recovers only 2 degrees back inside (`--hysteresis 2`). Short excursions above the
 * maximum must send nothing, a breach that lasts must fire once, hovering just under the
 * maximum must not recover it, and only a clear return does: exactly the notices the rule
 * says, each sent once, where the same readings without a waiting period and hysteresis
 * would have sent one email per crossing.
 */
import { DEFAULT_ALERT_COOLDOWN_SECONDS } from '../../handlers/contract';
import { setThresholds } from '../../tools/threshold-store';
import { check, type Drill } from '../drill';
import { auditAlerts, compareKeys, drainedChecks, expectedKeys, expectedNotices, sendBatches, storedKeys, waitForQuiet, withDrillPlatform } from '../probe';

const THING = 'things/flap-drill/000';
const SERIES = `${THING}/temperature`;
const RULE = { max: 25, forSeconds: 60, hysteresis: 2 };
/** Seconds of reading time between two readings. */
const SPACING_SECONDS = 10;

/**
 * The temperatures, one every 10 s: crossings of the maximum that never last 60 s, then
 * 80 s above it, then a minute and a half between the maximum and the hysteresis band
 * (and above the maximum again), a clear return, and more short crossings.
 */
const TEMPERATURES = [
  ...[24.8, 25.3, 25.6, 24.9, 25.4, 24.7, 25.2, 25.1, 25.3, 24.6, 25.5, 24.9, 25.2, 25.4, 25.1, 24.8],
  ...[26, 26.5, 27, 26, 25.5, 26, 26.2, 26.8, 26.1],
  ...[24.5, 25.5, 24, 25.2, 23.5, 24.2, 23.1, 25.8, 24.4],
  ...[22.5, 21, 21.4],
  ...[25.3, 24.9, 25.6, 25.2, 24.1, 25.4, 24.6],
];

export const alertFlappingDrill: Drill = {
  id: 'alert-flapping',
  title: 'a series flapping around its maximum, with a waiting period and hysteresis: exactly the alerts the rule says',
  async run({ workDir, log = () => undefined }) {
    return withDrillPlatform(workDir, async (drill) => {
      await setThresholds(drill.dynamo, drill.platform.tables.thresholds, SERIES, RULE);
      const start = Date.UTC(2024, 6, 1, 8);
      const readings = TEMPERATURES.map((temperature, index) => ({ id: THING, temperature: temperature.toFixed(2), timestamp: new Date(start + index * SPACING_SECONDS * 1000).toISOString() }));
      log(`alert-flapping: ${readings.length} readings around the maximum ${RULE.max} of ${SERIES} (for ${RULE.forSeconds} s, hysteresis ${RULE.hysteresis})`);
      await sendBatches(drill.platform, readings);
      const quiet = await waitForQuiet(drill, 60_000);

      const expected = expectedNotices(readings, SERIES, RULE, DEFAULT_ALERT_COOLDOWN_SECONDS);
      const plain = expectedNotices(readings, SERIES, { max: RULE.max }, DEFAULT_ALERT_COOLDOWN_SECONDS);
      const alerts = await auditAlerts(drill, SERIES, expected, drill.platform.alerts());
      const stored = compareKeys(expectedKeys(readings), await storedKeys(drill));
      return {
        checks: [
          ...drainedChecks(quiet, stored, readings.length),
          check(
            'the rule fires once for the breach that lasted and recovers once',
            expected.map((notice) => notice.kind).join(',') === 'breach,recovery' && plain.length > expected.length,
            `${expected.length} notices (${expected.map((notice) => notice.kind).join(', ')}); without a waiting period and hysteresis the same readings would send ${plain.length}`,
          ),
          check('the alert history lists exactly those', alerts.historyMatches, alerts.detail),
          check('each was sent once', alerts.sentOnce, alerts.detail),
        ],
        readings: { sent: readings.length, stored: stored.found, failureQueue: drill.platform.failureQueue().length },
      };
    });
  },
};
