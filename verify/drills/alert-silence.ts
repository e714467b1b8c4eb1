/**
 * Drill: a maintenance window. Every series under `things/silence-drill/a/` is silenced
 * through `POST /api/silences` (a prefix), from half an hour ago until a few seconds from
 * now; a series under `b/` is not. Both run hot through the window and after it. The
 * silenced series must send nothing for readings dated in the window, then alert again
 * for the first reading after it (and recover); the other one alerts as usual throughout.
 */
import { DEFAULT_ALERT_COOLDOWN_SECONDS } from '../../handlers/contract';
import { timestampMicros, timestampOfMillis } from '../../handlers/reading-timestamp';
import { setThresholds } from '../../tools/threshold-store';
import { createSilence } from '../alert-api';
import { check, type Drill } from '../drill';
import { auditAlerts, compareKeys, drainedChecks, expectedKeys, expectedNotices, sendBatches, sleep, storedKeys, waitForQuiet, withDrillPlatform } from '../probe';

const SILENCED = 'things/silence-drill/a/000';
const ALERTING = 'things/silence-drill/b/000';
const THINGS = [SILENCED, ALERTING];
const series = (thing: string) => `${thing}/temperature`;
const RULE = { max: 25 };
/** How long the window lasts from now: long enough to create it, short enough to wait out. */
const WINDOW_LEFT_MS = 3_000;

const reading = (thing: string, atMs: number, temperature: number) => ({ id: thing, temperature: temperature.toFixed(2), timestamp: new Date(atMs).toISOString() });

export const alertSilenceDrill: Drill = {
  id: 'alert-silence',
  title: 'a silenced prefix of series sends nothing in its window and alerts again after it',
  async run({ workDir, log = () => undefined }) {
    return withDrillPlatform(workDir, async (drill) => {
      for (const thing of THINGS) await setThresholds(drill.dynamo, drill.platform.tables.thresholds, series(thing), RULE);
      const now = Date.now();
      const { silence } = await createSilence(drill.platform.urls.web, {
        target: 'things/silence-drill/a/',
        reason: 'drill: plant A in maintenance',
        startsAt: timestampOfMillis(now - 30 * 60_000),
        endsAt: timestampOfMillis(now + WINDOW_LEFT_MS),
      });
      const endsAtMs = timestampMicros(silence.endsAt) / 1000;
      log(`alert-silence: ${silence.target} silenced until ${silence.endsAt} by ${silence.createdBy}`);

      // Out of range from 25 minutes ago, a reading a minute: a breach and a reminder 15 minutes later.
      const inWindow = Array.from({ length: 24 }, (_, index) => THINGS.map((thing) => reading(thing, now - (25 - index) * 60_000, 30 + (index % 2)))).flat();
      await sendBatches(drill.platform, inWindow);
      const quietInWindow = await waitForQuiet(drill, 60_000);
      const sentInWindow = drill.platform.alerts().filter((message) => message.message.includes(SILENCED)).length;
      const otherInWindow = drill.platform.alerts().filter((message) => message.message.includes(ALERTING)).length;

      const wait = endsAtMs + 1_000 - Date.now();
      if (wait > 0) await sleep(wait);
      // Dated after the window (and not ahead of the clock): still hot, then back in range.
      const after = THINGS.flatMap((thing) => [reading(thing, endsAtMs + 200, 31), reading(thing, endsAtMs + 600, 20)]);
      await sendBatches(drill.platform, after);
      const quiet = await waitForQuiet(drill, 60_000);

      const readings = [...inWindow, ...after];
      const silenced = (time: string) => time >= silence.startsAt && time < silence.endsAt;
      const expectedSilenced = expectedNotices(readings, series(SILENCED), RULE, DEFAULT_ALERT_COOLDOWN_SECONDS, { silenced });
      const expectedAlerting = expectedNotices(readings, series(ALERTING), RULE, DEFAULT_ALERT_COOLDOWN_SECONDS);
      const published = drill.platform.alerts();
      const [silencedAudit, alertingAudit] = await Promise.all([
        auditAlerts(drill, series(SILENCED), expectedSilenced, published.filter((message) => message.message.includes(SILENCED))),
        auditAlerts(drill, series(ALERTING), expectedAlerting, published.filter((message) => message.message.includes(ALERTING))),
      ]);
      const stored = compareKeys(expectedKeys(readings), await storedKeys(drill));
      return {
        checks: [
          ...drainedChecks(quietInWindow && quiet, stored, readings.length),
          check(
            'nothing sent for the silenced series in its window, while the other alerted',
            sentInWindow === 0 && otherInWindow > 0,
            `${sentInWindow} notices for ${SILENCED}, ${otherInWindow} for ${ALERTING}, for ${inWindow.length / 2} hot readings each`,
          ),
          check(
            'the silenced series alerts again after the window: exactly what the rule says',
            silencedAudit.historyMatches && expectedSilenced.map((notice) => notice.kind).join(',') === 'breach,recovery' && expectedSilenced.every((notice) => notice.timestamp >= silence.endsAt),
            silencedAudit.detail,
          ),
          check('the series not silenced alerts throughout', alertingAudit.historyMatches && expectedAlerting.length > expectedSilenced.length, alertingAudit.detail),
          check('each was sent once', silencedAudit.sentOnce && alertingAudit.sentOnce, `${published.length} published`),
          check('the silence records who, when and why', silence.createdBy !== '' && silence.createdAt !== '' && silence.reason !== '', `${silence.createdBy} at ${silence.createdAt}: ${silence.reason}`),
        ],
        readings: { sent: readings.length, stored: stored.found, failureQueue: drill.platform.failureQueue().length },
      };
    });
  },
};
