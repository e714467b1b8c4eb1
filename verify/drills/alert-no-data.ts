/**
 * Drill: sensors that go quiet, across a crash. Two series have a no-data period of 5 s
 * and the platform (a process of its own, `npm start --schedule-interval-seconds 1`) runs
 * the no-data check every second. Series A goes quiet and gets its no-data alert; then the
 * process is killed (SIGKILL) while B is still reporting, and started again on the same
 * data folder once B's silence has run out while nothing was running. Then both report
 * again, and keep reporting. Each must get exactly one no-data alert (A's not raised again
 * by the restarted check, B's raised once it runs) and one notice that readings resumed,
 * each sent once.
 */
import * as path from 'node:path';
import { addSeconds, type ExpectedNotice } from '../../handlers/alert-rules';
import { ATTRIBUTES } from '../../handlers/contract';
import { normaliseTimestamp, timestampMicros } from '../../handlers/reading-timestamp';
import { synthesizeStacks } from '../../local/twin/synth';
import { setThresholds } from '../../tools/threshold-store';
import { check, type Drill } from '../drill';
import { killPlatform, messagingState, processTableAccess, startPlatformProcess, stopPlatformGracefully, type PlatformProcess } from '../platform-process';
import { auditAlerts, DRILL_CONFIGURATION, pollUntil, scanTable, sendBatches, sleep, storedCount, waitForNotice } from '../probe';

const QUIET_FIRST = 'things/no-data-drill/000';
const QUIET_WHILE_DOWN = 'things/no-data-drill/001';
const THINGS = [QUIET_FIRST, QUIET_WHILE_DOWN];
const series = (thing: string) => `${thing}/temperature`;
/** Longer than the pipeline takes to catalogue a reading on a loaded machine, or a reporting series would look silent. */
const NO_DATA_AFTER_SECONDS = 5;
const CHECK_INTERVAL_SECONDS = 1;
/** A no-data alert is due within the period plus a check interval; this leaves room for a loaded machine. */
const NOTICE_TIMEOUT_MS = 30_000;
/** After the restart a claim the killed process left open holds its series for up to the 30 s claim timeout. */
const AFTER_RESTART_TIMEOUT_MS = 60_000;

const normalised = (timestamp: string): string => {
  const parsed = normaliseTimestamp(timestamp);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
};

/** A reading of `thing` dated now, as a sensor sends it. */
const readingNow = (thing: string, temperature: number) => ({ id: thing, temperature: temperature.toFixed(2), timestamp: new Date().toISOString() });

export const alertNoDataDrill: Drill = {
  id: 'alert-no-data',
  title: 'series that go quiet, one while the platform is killed: one no-data alert and one recovery each, none twice',
  async run({ workDir, log = () => undefined }) {
    const dataDir = path.join(workDir, 'platform');
    const stackFile = (await synthesizeStacks({ configuration: DRILL_CONFIGURATION })).stackFile('pipeline');
    const start = (clean: boolean) => startPlatformProcess(dataDir, stackFile, { clean, scheduleIntervalSeconds: CHECK_INTERVAL_SECONDS });
    let sent = 0;
    const send = async (platform: PlatformProcess, readings: readonly Record<string, unknown>[]) => {
      await sendBatches({ urls: { batchIngest: platform.urls.batchIngest ?? '' }, apiKey: platform.apiKey }, readings);
      sent += readings.length;
    };
    /** The latest reading time of `thing`'s series in the catalogue, once it is `expected`. */
    const catalogued = async (access: ReturnType<typeof processTableAccess>, thing: string, expected: string) =>
      pollUntil(async () => ((await scanTable(access, 'series')).some((item) => item[ATTRIBUTES.series] === series(thing) && item[ATTRIBUTES.latestTimestamp] === expected) ? true : undefined), 20_000, 100);

    let platform = await start(true);
    let access = processTableAccess(platform);
    try {
      for (const thing of THINGS) await setThresholds(access.dynamo, access.platform.tables.thresholds, series(thing), { noDataAfterSeconds: NO_DATA_AFTER_SECONDS });
      const lastBefore = new Map<string, string>();
      const quietFirst = readingNow(QUIET_FIRST, 20);
      lastBefore.set(QUIET_FIRST, normalised(quietFirst.timestamp));
      await send(platform, [quietFirst, readingNow(QUIET_WHILE_DOWN, 20)]);

      // B keeps reporting every half second until A's no-data alert is out.
      const raisedFirst = await pollUntil(async () => {
        const reading = readingNow(QUIET_WHILE_DOWN, 20);
        await send(platform, [reading]);
        lastBefore.set(QUIET_WHILE_DOWN, normalised(reading.timestamp));
        return (await waitForNotice(access, series(QUIET_FIRST), 'no-data', 500)) ?? undefined;
      }, NOTICE_TIMEOUT_MS, 0);
      // B's last reading stored before the kill, so its silence is measured from it.
      const bCatalogued = await catalogued(access, QUIET_WHILE_DOWN, lastBefore.get(QUIET_WHILE_DOWN) ?? '');
      const alertsAtKill = (await messagingState(platform)).published.length;
      await killPlatform(platform);
      access.destroy();
      log(`alert-no-data: ${raisedFirst === undefined ? 'no' : 'a'} no-data alert for ${series(QUIET_FIRST)}, ${alertsAtKill} published; killed, restarting`);

      // Down until B's no-data period has run out, so only the restarted platform can notice it.
      const deadline = timestampMicros(addSeconds(lastBefore.get(QUIET_WHILE_DOWN) ?? '', NO_DATA_AFTER_SECONDS)) / 1000;
      if (deadline > Date.now()) await sleep(deadline - Date.now() + 100);
      platform = await start(false);
      access = processTableAccess(platform);
      const raisedAfterRestart = await waitForNotice(access, series(QUIET_WHILE_DOWN), 'no-data', AFTER_RESTART_TIMEOUT_MS);
      // One reading each, and nothing more until the check has seen it: the recovery is dated by it.
      const resumed = THINGS.map((thing) => readingNow(thing, 21));
      await send(platform, resumed);
      const resumedNotices = await Promise.all(THINGS.map((thing) => waitForNotice(access, series(thing), 'data-resumed', AFTER_RESTART_TIMEOUT_MS)));
      // Reporting steadily through the next few checks: anything raised twice would be by them.
      for (let second = 0; second < 3 * CHECK_INTERVAL_SECONDS; second += 1) {
        await send(platform, THINGS.map((thing) => readingNow(thing, 21)));
        await sleep(1_000);
      }

      // Every reading acknowledged before the kill is stored by the restarted consumers.
      const stored = await pollUntil(async () => ((await storedCount(access)) >= sent ? sent : undefined), 20_000, 200);
      const { published, failureQueue } = await messagingState(platform);
      const audits = await Promise.all(
        THINGS.map((thing, index) => {
          const last = lastBefore.get(thing) ?? '';
          const expected: ExpectedNotice[] = [
            { kind: 'no-data', timestamp: addSeconds(last, NO_DATA_AFTER_SECONDS) },
            { kind: 'data-resumed', timestamp: normalised(resumed[index]?.timestamp ?? '') },
          ];
          return auditAlerts(access, series(thing), expected, published.filter((message) => message.message.includes(thing)));
        }),
      );
      return {
        checks: [
          check(`${series(QUIET_FIRST)} got its no-data alert before the kill`, raisedFirst !== undefined, raisedFirst === undefined ? `none within ${NOTICE_TIMEOUT_MS / 1000} s` : `at ${raisedFirst.timestamp}`),
          check(`${series(QUIET_WHILE_DOWN)} was reporting until the kill`, bCatalogued === true, `its last reading ${lastBefore.get(QUIET_WHILE_DOWN)} ${bCatalogued === true ? 'in' : 'not in'} the catalogue`),
          check('the restarted platform raised the silence that began while it was down', raisedAfterRestart !== undefined, raisedAfterRestart === undefined ? 'no no-data alert' : `at ${raisedAfterRestart.timestamp}`),
          check('both recovered when readings resumed', resumedNotices.every((notice) => notice !== undefined), `${resumedNotices.filter((notice) => notice !== undefined).length} of ${THINGS.length}`),
          ...THINGS.map((thing, index) => check(`${series(thing)}: exactly one no-data alert and one recovery`, audits[index]?.historyMatches === true, audits[index]?.detail ?? '')),
          check('each was sent once', audits.every((audit) => audit.sentOnce), `${published.length} published`),
        ],
        readings: { sent, stored: stored ?? (await storedCount(access)), failureQueue: failureQueue.length },
      };
    } finally {
      access.destroy();
      await stopPlatformGracefully(platform);
    }
  },
};
