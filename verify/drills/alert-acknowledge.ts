/**
 * Drill: two series breach together and stay out of range for an hour of reading time.
 * Someone acknowledges the first one's alert through `POST /api/alerts/ack` once it
 * fires; the second is left alone. The second must get its cooldown reminders, the
 * acknowledged one none, both exactly one recovery, and the fleet list must show who
 * acknowledged it, when and why, and that it resolved.
 */
import { DEFAULT_ALERT_COOLDOWN_SECONDS } from '../../handlers/contract';
import { setThresholds } from '../../tools/threshold-store';
import { acknowledgeAlert, fleetAlerts } from '../alert-api';
import { check, type Drill } from '../drill';
import { auditAlerts, compareKeys, drainedChecks, expectedKeys, expectedNotices, sendBatches, storedKeys, waitForNotice, waitForQuiet, withDrillPlatform } from '../probe';

const ACKNOWLEDGED = 'things/ack-drill/000';
const LEFT_ALONE = 'things/ack-drill/001';
const THINGS = [ACKNOWLEDGED, LEFT_ALONE];
const series = (thing: string) => `${thing}/temperature`;
const RULE = { max: 25 };
/** A reading a minute, out of range for an hour: four cooldowns of 900 s. */
const MINUTES_OUT = 60;
const NOTE = 'boiler 3 on manual, engineer on site';

const reading = (thing: string, minute: number, temperature: number, start: number) => ({ id: thing, temperature: temperature.toFixed(2), timestamp: new Date(start + minute * 60_000).toISOString() });

export const alertAcknowledgeDrill: Drill = {
  id: 'alert-acknowledge',
  title: 'an acknowledged alert sends no reminders until it recovers; one left alone gets them',
  async run({ workDir, log = () => undefined }) {
    return withDrillPlatform(workDir, async (drill) => {
      const web = drill.platform.urls.web;
      for (const thing of THINGS) await setThresholds(drill.dynamo, drill.platform.tables.thresholds, series(thing), RULE);
      const start = Date.UTC(2024, 6, 2, 8);
      const first = THINGS.map((thing) => reading(thing, 0, 30, start));
      await sendBatches(drill.platform, first);
      const opened = await waitForNotice(drill, series(ACKNOWLEDGED), 'breach', 30_000);
      if (opened === undefined) throw new Error(`no breach alert for ${series(ACKNOWLEDGED)} within 30 s`);

      // As soon as the history shows it, as an operator watching the list would (the series' state may not be confirmed yet).
      const firing = await fleetAlerts(web, { kind: 'breach', state: 'firing' });
      const alert = firing.items.find((item) => item.series === series(ACKNOWLEDGED));
      if (alert === undefined) throw new Error(`GET /api/alerts lists no firing breach of ${series(ACKNOWLEDGED)}: ${firing.items.map((item) => item.series).join(', ') || 'none'}`);
      const acknowledged = await acknowledgeAlert(web, alert.id, NOTE);
      log(`alert-acknowledge: acknowledged ${alert.id} as ${acknowledged.alert.acknowledged?.by}; ${MINUTES_OUT} more minutes out of range, then back`);

      const rest = [
        ...Array.from({ length: MINUTES_OUT }, (_, index) => THINGS.map((thing) => reading(thing, index + 1, 30 + (index % 3), start))).flat(),
        ...THINGS.map((thing) => reading(thing, MINUTES_OUT + 1, 20, start)),
      ];
      await sendBatches(drill.platform, rest);
      const quiet = await waitForQuiet(drill, 60_000);

      const readings = [...first, ...rest];
      const expectedAcknowledged = expectedNotices(readings, series(ACKNOWLEDGED), RULE, DEFAULT_ALERT_COOLDOWN_SECONDS, { acknowledgedAt: opened.timestamp });
      const expectedLeftAlone = expectedNotices(readings, series(LEFT_ALONE), RULE, DEFAULT_ALERT_COOLDOWN_SECONDS);
      const published = drill.platform.alerts();
      const [acknowledgedAudit, leftAloneAudit] = await Promise.all([
        auditAlerts(drill, series(ACKNOWLEDGED), expectedAcknowledged, published.filter((message) => message.message.includes(ACKNOWLEDGED))),
        auditAlerts(drill, series(LEFT_ALONE), expectedLeftAlone, published.filter((message) => message.message.includes(LEFT_ALONE))),
      ]);
      const reminders = expectedLeftAlone.filter((notice) => notice.kind === 'reminder').length;
      const resolved = (await fleetAlerts(web, { kind: 'breach', state: 'resolved' })).items.find((item) => item.id === alert.id);
      const stored = compareKeys(expectedKeys(readings), await storedKeys(drill));
      return {
        checks: [
          ...drainedChecks(quiet, stored, readings.length),
          check(
            'the acknowledged alert sends no reminder, only its recovery',
            acknowledgedAudit.historyMatches && expectedAcknowledged.map((notice) => notice.kind).join(',') === 'breach,recovery',
            acknowledgedAudit.detail,
          ),
          check('the alert left alone gets its cooldown reminders', leftAloneAudit.historyMatches && reminders >= 3, `${reminders} reminders expected; ${leftAloneAudit.detail}`),
          check('each was sent once', acknowledgedAudit.sentOnce && leftAloneAudit.sentOnce, `${published.length} published`),
          check(
            'the fleet list shows who acknowledged, when and why, and that it resolved',
            resolved?.acknowledged?.note === NOTE && resolved.acknowledged.by !== '' && resolved.acknowledged.at !== '' && resolved.resolvedAt !== null,
            resolved === undefined ? `${alert.id} is not among the resolved alerts` : `acknowledged ${JSON.stringify(resolved.acknowledged)}, resolved at ${resolved.resolvedAt}`,
          ),
        ],
        readings: { sent: readings.length, stored: stored.found, failureQueue: drill.platform.failureQueue().length },
      };
    });
  },
};
