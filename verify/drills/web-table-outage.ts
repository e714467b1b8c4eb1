/**
 * Drill: the web app's tables become unreachable under a running app. Liveness and the
 * dashboard's files must keep answering 200; readiness and every data route must answer
 * 503 with a sentence a person can read (no stack frame, host, port or SDK internals),
 * quickly, without the process failing; and once the table is back, readiness and the API
 * must return by themselves with exactly the data they showed before.
 */
import { DEFAULT_ALERT_COOLDOWN_SECONDS } from '../../handlers/contract';
import { setThresholds } from '../../tools/threshold-store';
import { DEFAULT_SERIES_CACHE_SECONDS } from '../../web/config';
import { WEB_DYNAMO_LIMITS } from '../../web/dynamo-client';
import { check, type DrillCheck, type Drill } from '../drill';
import { compareKeys, count, drillReadings, expectedKeys, expectedNotices, pollUntil, seconds, sendBatches, showsStackTrace, storedKeys, waitForQuiet, withDrillPlatform } from '../probe';

const READINGS = 200;
const THINGS = 5;
const SERIES = 'things/web-outage-drill/000/temperature';
const THRESHOLDS = { max: 25 };
/** Thing 000 (every fifth reading) runs hot once: a breach and a recovery in the alert history. */
const temperature = (index: number): number => (index === 50 ? 30 : 20 + (index % 40) / 10);

/** The series overview may be served from its cache this long after the table went away. */
const OUTAGE_SETTLE_MS = (DEFAULT_SERIES_CACHE_SECONDS + 3) * 1_000;
const RECOVERY_MS = 10_000;
/** No answer may take longer than the client's own bound (every attempt timing out), plus slack for a busy machine. */
const ANSWER_BOUND_MS = WEB_DYNAMO_LIMITS.maxAttempts * WEB_DYNAMO_LIMITS.requestTimeoutMs + 1_000;
const CONCURRENT_REQUESTS = 40;

interface Answer {
  readonly url: string;
  /** 0 when the request itself failed (connection refused or reset: the server is not serving). */
  readonly status: number;
  readonly contentType: string;
  readonly retryAfter: string | null;
  readonly body: string;
  readonly ms: number;
}

async function ask(base: string, url: string): Promise<Answer> {
  const started = Date.now();
  try {
    const response = await fetch(`${base}${url}`);
    const body = await response.text();
    return { url, status: response.status, contentType: response.headers.get('content-type') ?? '', retryAfter: response.headers.get('retry-after'), body, ms: Date.now() - started };
  } catch (error) {
    return { url, status: 0, contentType: '', retryAfter: null, body: String(error), ms: Date.now() - started };
  }
}

const parsed = (answer: Answer): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(answer.body);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** A 503 a person can act on: JSON with a code and a sentence, and a retry hint for programs. */
function isClearUnavailable(answer: Answer): boolean {
  const body = parsed(answer);
  return answer.status === 503 && answer.contentType.startsWith('application/json') && body?.error === 'unavailable' && typeof body.message === 'string' && /^[A-Z].{20,}\.$/.test(body.message) && answer.retryAfter !== null;
}

export const webTableOutageDrill: Drill = {
  id: 'web-table-outage',
  title: 'web app with its tables unreachable: /healthz and the API answer 503 clearly, /livez 200, no crash, recovery without a restart',
  async run({ workDir, log = () => undefined }) {
    return withDrillPlatform(workDir, async (drill) => {
      const base = drill.platform.urls.web;
      const thing = encodeURIComponent(SERIES);
      const dataRoutes = ['/api/series', `/api/readings?thing=${thing}&limit=5000`, `/api/alerts?thing=${thing}`, `/api/thresholds?thing=${thing}`];
      const dynamoAddress = new URL(drill.platform.urls.dynamodb);
      // Beyond a stack trace anywhere: frames inside a JSON string (newlines escaped), the emulator's address, and what the SDK would say about it.
      const leaks = [/\s{4}at \S/, new RegExp(`${dynamoAddress.hostname.replace(/\./g, '\\.')}|localhost`), new RegExp(`:${dynamoAddress.port}\\b`), /E[A-Z]{4,}\b/, /\$metadata|AWS SDK|smithy/i];
      const leaking = (answers: readonly Answer[]) => answers.filter((answer) => showsStackTrace(answer.body) || leaks.some((pattern) => pattern.test(answer.body)));

      // Data for the API to show: readings, a threshold, and alerts the pipeline recorded.
      await setThresholds(drill.dynamo, drill.platform.tables.thresholds, SERIES, THRESHOLDS);
      const readings = drillReadings(READINGS, { prefix: 'web-outage-drill', things: THINGS, value: temperature });
      await sendBatches(drill.platform, readings);
      const quiet = await waitForQuiet(drill, 60_000, 1_000);
      const storedBefore = compareKeys(expectedKeys(readings), await storedKeys(drill));
      const notices = expectedNotices(readings, SERIES, THRESHOLDS, DEFAULT_ALERT_COOLDOWN_SECONDS);

      const before = await Promise.all(dataRoutes.map((url) => ask(base, url)));
      const [series, readingsPage, alertsPage, thresholds] = before.map(parsed);
      const seriesReadings = READINGS / THINGS;
      const beforeOk =
        before.every((answer) => answer.status === 200) &&
        (series?.series as { series: string }[] | undefined)?.some((entry) => entry.series === SERIES) === true &&
        (readingsPage?.items as unknown[] | undefined)?.length === seriesReadings &&
        (alertsPage?.items as unknown[] | undefined)?.length === notices.length &&
        thresholds?.maxThreshold === THRESHOLDS.max;

      log(`web-table-outage: ${count(storedBefore.found)} readings stored; taking DynamoDB down`);
      await drill.platform.faults.interruptDynamoDB();
      const down = Date.now();

      const livez = await ask(base, '/livez');
      const page = await ask(base, '/');
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)?.[1];
      const asset = script === undefined ? undefined : await ask(base, script);
      // Readiness is reused for a second and the overview for its cache period: poll each until it stops answering 200.
      const settle = (url: string) =>
        pollUntil(async () => {
          const answer = await ask(base, url);
          return answer.status === 200 ? undefined : answer;
        }, OUTAGE_SETTLE_MS, 250).then(async (answer) => answer ?? ask(base, url));
      const [health, ...data] = await Promise.all(['/healthz', ...dataRoutes].map(settle));
      const settledAfter = Date.now() - down;
      const healthBody = parsed(health as Answer);
      const healthTables = (healthBody?.tables as { table: string; status: string }[] | undefined) ?? [];
      const tableNames = Object.values(drill.platform.tables);

      // A crowd of viewers during the outage: every request is answered, none hangs, the process keeps serving.
      const crowd = await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, (_, index) => ask(base, index % 5 === 0 ? '/livez' : (dataRoutes[index % dataRoutes.length] as string))));
      const crowdAnswered = crowd.filter((answer) => (answer.url === '/livez' ? answer.status === 200 : isClearUnavailable(answer)));
      const livezAfterCrowd = await ask(base, '/livez');
      const outageAnswers = [health as Answer, ...data, ...crowd, livez];
      const slowest = outageAnswers.reduce((max, answer) => Math.max(max, answer.ms), 0);

      await drill.platform.faults.restoreDynamoDB();
      const up = Date.now();
      log(`web-table-outage: DynamoDB back after ${seconds(up - down)}`);
      const recovered = await pollUntil(async () => ((await ask(base, '/healthz')).status === 200 ? Date.now() - up : undefined), RECOVERY_MS, 200);
      const after = await Promise.all(dataRoutes.map((url) => ask(base, url)));
      const changed = after.filter((answer, index) => answer.status !== 200 || answer.body !== before[index]?.body).map((answer) => `${answer.url.split('?')[0]} ${answer.status}`);
      const storedAfter = compareKeys(expectedKeys(readings), await storedKeys(drill));
      const failureQueue = drill.platform.failureQueue().length;

      const checks: DrillCheck[] = [
        check(
          'before the outage the API shows the stored readings, threshold and alerts',
          quiet && storedBefore.found === READINGS && beforeOk,
          `${count(storedBefore.found)} of ${count(READINGS)} stored; ${before.map((answer) => `${answer.url.split('?')[0]} ${answer.status}`).join(', ')}; ${(readingsPage?.items as unknown[] | undefined)?.length ?? 0} readings and ${(alertsPage?.items as unknown[] | undefined)?.length ?? 0} of ${notices.length} alerts for the drill series`,
        ),
        check('/livez answers 200 throughout', livez.status === 200 && livezAfterCrowd.status === 200, `${livez.status} at once, ${livezAfterCrowd.status} after the crowd`),
        check(
          'the dashboard page and its script are still served',
          page.status === 200 && page.contentType.startsWith('text/html') && asset?.status === 200,
          `/ ${page.status} (${page.contentType}); ${script ?? 'no script found'} ${asset?.status ?? '-'}`,
        ),
        check(
          '/healthz answers 503 saying the data store cannot be reached, naming each table',
          health?.status === 503 && healthBody?.status === 'unavailable' && /^The data store \(DynamoDB\) cannot be reached: .+\./.test(String(healthBody.message)) && tableNames.every((name) => healthTables.some((table) => table.table === name && table.status === 'unreachable')),
          `${health?.status}: ${String(healthBody?.message ?? health?.body.slice(0, 200))}`,
        ),
        check(
          'every data route answers 503 "unavailable" with retry-after and a readable sentence',
          data.every(isClearUnavailable),
          data.map((answer) => `${answer.url.split('?')[0]} ${answer.status}${answer.retryAfter === null ? '' : ` retry-after ${answer.retryAfter}`}`).join(', ') + ` (all settled ${seconds(settledAfter)} after the outage began)`,
        ),
        check('no answer shows a stack trace, an internal address or SDK internals', leaking(outageAnswers).length === 0, leaking(outageAnswers).map((answer) => `${answer.url}: ${answer.body.slice(0, 160)}`).join(' | ') || `${outageAnswers.length} answers checked`),
        check(
          `the process keeps serving: ${CONCURRENT_REQUESTS} concurrent requests all answered, none hung`,
          crowdAnswered.length === crowd.length && slowest <= ANSWER_BOUND_MS,
          `${crowdAnswered.length} of ${crowd.length} answered as expected; slowest answer during the outage ${slowest} ms (bound ${ANSWER_BOUND_MS} ms)`,
        ),
        check('/healthz is ready again once the table is back', recovered !== undefined, recovered === undefined ? `still not ready ${seconds(RECOVERY_MS)} after DynamoDB came back` : `ready ${seconds(recovered)} after DynamoDB came back`),
        check(
          'the API answers again with exactly the data it showed before, nothing lost',
          changed.length === 0 && storedAfter.found === READINGS,
          changed.length === 0 ? `${dataRoutes.length} routes identical to before; ${count(storedAfter.found)} of ${count(READINGS)} readings stored` : `differs or failed: ${changed.join(', ')}`,
        ),
      ];
      return {
        checks,
        readings: { sent: readings.length, stored: storedAfter.found, failureQueue },
      };
    });
  },
};
