/**
 * Drill: numbers at the edges of what DynamoDB holds, end to end. Through the ingest API:
 * 38 significant digits, magnitudes next to 1e126 and 1e-130, an integer beyond 2^53 as a
 * JSON number (which once failed the write and took the batch down), and a value above
 * its series' maximum by 1e-30. Straight onto the stream, beside good records: numbers
 * DynamoDB cannot hold and bytes that are not UTF-8. Every accepted value must be stored
 * and answered by the web API with every digit, the tiny breach must be alerted and
 * recorded, and every unstorable record must be in the failure queue with its reason
 * while the records around it are stored.
 */
import { DEFAULT_ALERT_COOLDOWN_SECONDS } from '../../handlers/contract';
import { parseReadingJson } from '../../handlers/reading';
import { readingItems, seriesId } from '../../handlers/reading-item';
import { seriesReadings } from '../../handlers/reading-segment';
import type { FailureMessageBody } from '../../handlers/store-plan';
import { setThresholds } from '../../tools/threshold-store';
import { check, type Drill, type DrillCheck } from '../drill';
import { auditAlerts, count, expectedNotices, localExactDynamo, putRawRecords, sendBatches, waitForQuiet, withDrillPlatform } from '../probe';

const THING = 'things/exact-drill/000';
const RAW_THING = 'things/exact-drill/raw';
const at = (second: number) => new Date(Date.UTC(2024, 4, 1, 12, 0, second)).toISOString();

/** Through the ingest API: each value as a sensor writes it. */
const API_READINGS: readonly Record<string, unknown>[] = [
  { id: THING, timestamp: at(0), energy: '12345678901234567890123456789012345678' },
  { id: THING, timestamp: at(1), energy: 10000000000000000 },
  { id: THING, timestamp: at(2), energy: '-9.9999999999999999999999999999999999999e125' },
  { id: THING, timestamp: at(3), energy: '1e-130' },
  { id: THING, timestamp: at(4), temperature: '25' },
  { id: THING, timestamp: at(5), temperature: '25.000000000000000000000000000001' },
  { id: THING, timestamp: at(6), temperature: '24.999999999999999999999999999999' },
];
const THRESHOLDS = { max: 25 };
const WATCHED = seriesId(THING, 'temperature');

/** Straight onto the stream, as a producer with stream access would write them. */
const RAW_GOOD = [`{"id":"${RAW_THING}","timestamp":"${at(10)}","counter":10000000000000001}`, `{"id":"${RAW_THING}","timestamp":"${at(12)}","counter":0.1000000000000000000000000000000000001}`];
const RAW_BAD: readonly { kind: string; data: string | Uint8Array; code: string }[] = [
  { kind: 'a JSON number of 39 significant digits', data: `{"id":"${RAW_THING}","timestamp":"${at(11)}","counter":1.23456789012345678901234567890123456789}`, code: 'bad-metric-value' },
  { kind: 'a JSON number below 1e-130 (once stored as 0)', data: `{"id":"${RAW_THING}","timestamp":"${at(13)}","counter":1e-200}`, code: 'bad-metric-value' },
  {
    kind: 'bytes that are not UTF-8 inside a valid JSON string (once stored as U+FFFD)',
    data: Buffer.concat([Buffer.from(`{"id":"${RAW_THING}/caf`), Buffer.from([0xe9]), Buffer.from(`","timestamp":"${at(14)}","counter":1}`)]),
    code: 'bad-encoding',
  },
];

/** The exact text each accepted value must be stored and answered with, by series and time. */
function expectedValues(): Map<string, string> {
  const expected = new Map<string, string>();
  const texts = [...API_READINGS.map((reading) => JSON.stringify(reading)), ...RAW_GOOD];
  for (const text of texts) {
    const parsed = parseReadingJson(text);
    if (!parsed.ok) throw new Error(`the drill's own reading is refused: ${parsed.error.message}`);
    for (const item of readingItems(parsed.value)) expected.set(`${item.ThingID}|${item.Timestamp}`, item.Value.text);
  }
  return expected;
}

export const exactValuesDrill: Drill = {
  id: 'exact-values',
  title: 'numbers at the edges of DynamoDB and unstorable records: every accepted digit stored and answered, every unstorable record queued with its reason',
  async run({ workDir, log = () => undefined }) {
    return withDrillPlatform(workDir, async (drill) => {
      const exact = localExactDynamo(drill.platform.urls.dynamodb, drill.platform.region);
      try {
        await setThresholds(drill.dynamo, drill.platform.tables.thresholds, WATCHED, THRESHOLDS);
        const answered = await sendBatches(drill.platform, API_READINGS).then(
          () => 'every request answered 200',
          (error: Error) => error.message,
        );
        const raw = [RAW_GOOD[0] as string, ...RAW_BAD.map((bad) => bad.data), RAW_GOOD[1] as string];
        await putRawRecords(drill, raw.map((data) => ({ partitionKey: RAW_THING, data })));
        log(`exact-values: ${API_READINGS.length} readings through the API, ${raw.length} records onto the stream`);
        const quiet = await waitForQuiet(drill, 60_000);

        // Stored, with every digit.
        const expected = expectedValues();
        const stored = new Map<string, string>();
        for (const series of new Set([...expected.keys()].map((key) => key.split('|')[0] as string))) {
          for await (const reading of seriesReadings(exact, drill.platform.tables.things, { series, consistentRead: true })) stored.set(`${series}|${reading.timestamp}`, reading.value.text);
        }
        const wrong = [...expected].filter(([key, text]) => stored.get(key) !== text).map(([key, text]) => `${key}: ${stored.get(key) ?? 'missing'} instead of ${text}`);

        // Answered by the web API with every digit; listed, not dropped.
        const web = drill.platform.urls.web;
        const pages = await Promise.all(
          ['energy', 'temperature'].map((metric) => fetch(`${web}/api/readings?${new URLSearchParams({ thing: seriesId(THING, metric), limit: '100' })}`).then(async (response) => ({ status: response.status, body: await response.text() }))),
        );
        const rawPage = await fetch(`${web}/api/readings?${new URLSearchParams({ thing: seriesId(RAW_THING, 'counter') })}`).then(async (response) => ({ status: response.status, body: await response.text() }));
        const series = await fetch(`${web}/api/series`).then(async (response) => ({ status: response.status, body: await response.text() }));
        const answers = [...pages, rawPage, series];
        const missingFromApi = [...expected.values()].filter((text) => !answers.some((answer) => answer.body.includes(`"value":${text}`)));
        const listed = [seriesId(THING, 'energy'), WATCHED, seriesId(RAW_THING, 'counter')].filter((name) => series.body.includes(`"series":${JSON.stringify(name)}`));

        // The breach by 1e-30, and its recovery, alerted and recorded once each.
        const alerts = await auditAlerts(drill, WATCHED, expectedNotices(API_READINGS, WATCHED, THRESHOLDS, DEFAULT_ALERT_COOLDOWN_SECONDS), drill.platform.alerts());

        // Unstorable records: queued once each with their reason; their neighbours stored.
        const queued = drill.platform.failureQueue().map((message) => JSON.parse(message.body) as Partial<FailureMessageBody>);
        const payloadOf = (data: string | Uint8Array) => (typeof data === 'string' ? data : Buffer.from(data).toString('base64'));
        const misqueued = RAW_BAD.filter((bad) => {
          const found = queued.filter((message) => message.payload === payloadOf(bad.data));
          return found.length !== 1 || found[0]?.reason?.code !== bad.code;
        }).map((bad) => bad.kind);
        const replaced = [...stored.keys()].filter((key) => key.includes('\uFFFD'));

        const checks: DrillCheck[] = [
          check('readings at the edges of DynamoDB are accepted by the ingest API', answered === 'every request answered 200', answered),
          check('the pipeline drained', quiet, quiet ? 'both consumers idle, table stable' : 'still busy after 60 s'),
          check(
            'every accepted value is stored with every digit',
            wrong.length === 0,
            wrong.length === 0 ? `${expected.size} of ${expected.size}, e.g. ${[...expected.values()].slice(0, 3).join(', ')}` : wrong.slice(0, 3).join('; '),
          ),
          check(
            'the web API answers every value with every digit and lists every series (no 5xx, none dropped)',
            answers.every((answer) => answer.status === 200) && missingFromApi.length === 0 && listed.length === 3,
            `statuses ${answers.map((answer) => answer.status).join(', ')}; ${expected.size - missingFromApi.length} of ${expected.size} values exact; ${listed.length} of 3 series listed`,
          ),
          check('a value above its maximum by 1e-30 is alerted, and its recovery, each recorded', alerts.historyMatches, alerts.detail),
          check('each of those alerts was sent once', alerts.sentOnce, alerts.detail),
          check(
            'every unstorable record is in the failure queue once, with its reason',
            misqueued.length === 0 && queued.length === RAW_BAD.length,
            misqueued.length === 0 ? `${RAW_BAD.length} of ${RAW_BAD.length}: ${RAW_BAD.map((bad) => bad.code).join(', ')}; ${queued.length} messages in all` : `not as expected: ${misqueued.join('; ')}`,
          ),
          check('no text was stored with U+FFFD in place of bytes that were not UTF-8', replaced.length === 0, replaced.length === 0 ? 'none' : replaced.join('; ')),
        ];
        const readingsStored = [...API_READINGS.map((reading) => JSON.stringify(reading)), ...RAW_GOOD].filter((text) => {
          const parsed = parseReadingJson(text);
          return parsed.ok && readingItems(parsed.value).every((item) => stored.get(`${item.ThingID}|${item.Timestamp}`) === item.Value.text);
        }).length;
        log(`exact-values: ${count(readingsStored)} readings stored exactly, ${queued.length} records queued`);
        return { checks, readings: { sent: API_READINGS.length + raw.length, stored: readingsStored, failureQueue: queued.length } };
      } finally {
        exact.destroy();
      }
    });
  },
};
