/**
 * Drill: the platform process running the consumers is killed (SIGKILL: no clean-up, no
 * flush) while batches are in flight, then started again on the same data folder, as
 * `npm start` would be after a crash. Every reading must be stored exactly once and every
 * alert sent exactly once across both runs: checkpoints, idempotent writes and the alert
 * claim protocol have to hold up, not a graceful stop.
 */
import * as path from 'node:path';
import { DEFAULT_ALERT_COOLDOWN_SECONDS } from '../../handlers/contract';
import { synthesizeStacks } from '../../local/twin/synth';
import { setThresholds } from '../../tools/threshold-store';
import { check, type Drill } from '../drill';
import { killPlatform, messagingState, processTableAccess, startPlatformProcess, stopPlatformGracefully } from '../platform-process';
import { auditAlerts, compareKeys, count, DRILL_CONFIGURATION, drillReadings, expectedKeys, expectedNotices, overRecentMinutes, pollUntil, recordedNotices, sendBatches, sleep, storedCount, storedKeys } from '../probe';
import { auditRollups, rollupsCheck } from '../rollup-audit';

const READINGS = 6_000;
const ALARMED_SERIES = 'things/kill-drill/000/temperature';
const THRESHOLDS = { max: 25 };
/** Thing 000 runs hot three times: six state changes spread over the whole stream. */
const temperature = (index: number): number => (Math.floor(index / 1_000) % 2 === 1 ? 30 : 20 + (index % 30) / 10);

export const consumerKillDrill: Drill = {
  id: 'consumer-kill',
  title: 'the consumers\' process killed mid-batch and restarted: no reading or alert lost, none twice',
  async run({ workDir, log = () => undefined }) {
    const dataDir = path.join(workDir, 'platform');
    // Dated now, so every step of rollups is kept (older readings are rolled up by hour and day only).
    const readings = drillReadings(READINGS, { prefix: 'kill-drill', value: temperature, ...overRecentMinutes(READINGS) });
    const expected = expectedKeys(readings);

    // The drills' configuration, whatever the checkout's configuration or the shell says.
    const stackFile = (await synthesizeStacks({ configuration: DRILL_CONFIGURATION })).stackFile('pipeline');
    let platform = await startPlatformProcess(dataDir, stackFile, { clean: true });
    let access = processTableAccess(platform);
    try {
      await setThresholds(access.dynamo, access.platform.tables.thresholds, ALARMED_SERIES, THRESHOLDS);
      // A consumer batch stores its readings in a few segment items at once, so the table goes
      // from none to thousands of readings in one step: the kill follows the acknowledgement of
      // the last four fifths at once (the consumers wait up to their batching window for them),
      // once the first fifth is stored, so the consumers are running and readings are in flight.
      const ingest = { urls: { batchIngest: platform.urls.batchIngest ?? '' }, apiKey: platform.apiKey };
      await sendBatches(ingest, readings.slice(0, READINGS / 5));
      await pollUntil(async () => ((await storedCount(access)) >= READINGS / 5 ? true : undefined), 60_000, 20);
      await sendBatches(ingest, readings.slice(READINGS / 5));
      log(`consumer-kill: ${count(READINGS)} readings acknowledged; killing now`);
      const storedAtKill = await storedCount(access);
      const alertsAtKill = (await messagingState(platform)).published.length;
      await killPlatform(platform);
      const killedAt = new Date().toISOString();
      access.destroy();
      log(`consumer-kill: killed with ${count(storedAtKill ?? 0)} of ${count(expected.size)} items stored and ${alertsAtKill} alerts sent; restarting`);

      platform = await startPlatformProcess(dataDir, stackFile, { clean: false });
      access = processTableAccess(platform);
      const expectedAlerts = expectedNotices(readings, ALARMED_SERIES, THRESHOLDS, DEFAULT_ALERT_COOLDOWN_SECONDS);
      // A claim left by the killed process holds its series for up to the 30 s claim timeout.
      // Caught up means recorded: a notice the killed process published counts among the
      // published before the restarted one records it.
      const drained = await pollUntil(async () => {
        const [stored, history] = await Promise.all([storedCount(access), recordedNotices(access, ALARMED_SERIES)]);
        return stored >= expected.size && history.length >= expectedAlerts.length ? true : undefined;
      }, 90_000, 500);
      // Anything sent twice would arrive now.
      await sleep(3_000);

      const stored = compareKeys(expected, await storedKeys(access));
      const rollups = await auditRollups(access);
      const state = await messagingState(platform);
      const alerts = await auditAlerts(access, ALARMED_SERIES, expectedAlerts, state.published, killedAt);
      const midBatch = storedAtKill !== undefined && storedAtKill < expected.size;
      return {
        checks: [
          check('the process was killed while readings were still being stored', midBatch, `killed with ${count(storedAtKill ?? 0)} of ${count(expected.size)} items stored, ${alertsAtKill} of ${expectedAlerts.length} alerts sent`),
          check('the restarted platform caught up', drained === true, drained === true ? 'every item stored and every alert sent' : 'not caught up after 90 s'),
          check('no reading lost, none duplicated', stored.found === expected.size && stored.unexpected.length === 0, `${count(stored.found)} of ${count(expected.size)} items; ${stored.unexpected.length} unexpected`),
          rollupsCheck(rollups),
          check('nothing sent to the failure queue', state.failureQueue.length === 0, `${state.failureQueue.length} messages`),
          check('no alert lost: the history is exactly what the rule says', alerts.historyMatches, alerts.detail),
          check('no alert sent twice, but for a notice the killed process published and could not record', alerts.sentOnce && alerts.repeatedAtKill <= 1, alerts.detail),
        ],
        // One metric per reading: items and readings are the same count.
        readings: { sent: READINGS, stored: stored.found, failureQueue: state.failureQueue.length },
      };
    } finally {
      access.destroy();
      await stopPlatformGracefully(platform);
    }
  },
};
