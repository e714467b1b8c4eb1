/**
 * The rule editor in a real browser (headless Chromium from Debian, driven by
 * playwright-core), over the web app on dynalite: a rule edited with the keyboard alone
 * moves the series' thresholds line and is listed in its changes; a bad rule is refused
 * beside the form with the API's words; the bulk action applies the rule to every series
 * the filter matches after a confirm step; a deployment without sign-in says changes need
 * one.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDynamoAlertConsole } from '../../web/alert-console';
import { buildApp } from '../../web/app';
import { createDynamoRepository } from '../../web/dynamo-repository';
import { localIdentity, noIdentity, type UserIdentity } from '../../web/identity';
import { startDynalite, type DynaliteHarness } from '../handlers/dynalite-harness';

const CHROMIUM = '/usr/bin/chromium';
const BOILERS = ['things/boiler/1/temperature', 'things/boiler/2/temperature', 'things/boiler/3/temperature'];
const PUMP = 'things/pump/1/temperature';
const SERIES = BOILERS[0] as string;

let db: DynaliteHarness;
let browser: Browser;
const apps: { close(): Promise<unknown> }[] = [];

async function open(identity: UserIdentity): Promise<Page> {
  const app = buildApp({ repository: createDynamoRepository({ client: db.exact, tables: db.tables, seriesCacheSeconds: 0 }), alertConsole: createDynamoAlertConsole({ client: db.exact, tables: db.tables }), identity });
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const page = await (await browser.newContext({ viewport: { width: 1300, height: 1200 }, timezoneId: 'UTC' })).newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/#series=${encodeURIComponent(SERIES)}&range=1h`);
  await page.waitForFunction(() => document.querySelector('#series-facts')?.textContent?.includes('thresholds'));
  return page;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: install the Debian package with "apt-get install -y chromium" and run the test again.`);
  db = await startDynalite();
  const now = Date.now();
  const readings = [...BOILERS, PUMP].flatMap((series) =>
    Array.from({ length: 5 }, (_, index) => ({ ThingID: series, Timestamp: new Date(now - (5 - index) * 60_000).toISOString().replace('Z', '000Z'), Value: 60 + index, ExpiresAt: 2_000_000_000 })),
  );
  for (let at = 0; at < readings.length; at += 25) {
    await db.document.send(new BatchWriteCommand({ RequestItems: { [db.tables.things]: readings.slice(at, at + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
  for (const series of [...BOILERS, PUMP]) {
    const latest = readings.filter((reading) => reading.ThingID === series).at(-1)!;
    await db.document.send(new PutCommand({ TableName: db.tables.series, Item: { ThingID: series, LatestTimestamp: latest.Timestamp, LatestValue: latest.Value } }));
  }
  await db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ThingID: SERIES, MinThreshold: 55, MaxThreshold: 78 } }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const app of apps) await app.close();
  await db?.stop();
});

/** The facts line, its unit spaces (no-break, U+00A0) as plain ones. */
/** Opens the editor with the mouse and waits for the form to hold the stored rule. */
async function openEditor(page: Page, max: string): Promise<void> {
  await page.click('#rule-editor summary');
  await page.waitForFunction((expected) => (document.getElementById('rule-max') as HTMLInputElement).value === expected, max);
}

/** Types `value` into one field, saves, and gives the message shown beside the form. */
async function refusedSave(page: Page, field: string, value: string): Promise<string | null> {
  await page.fill(`#rule-${field}`, value);
  await page.click('#rule-save');
  await page.waitForFunction(() => document.getElementById('rule-error')?.textContent !== '');
  return page.textContent('#rule-error');
}

const storedRule = async (page: Page, series: string) =>
  ((await (await page.request.get(`${new URL(page.url()).origin}/api/thresholds/changes?thing=${encodeURIComponent(series)}`)).json()) as { rule: unknown }).rule;

const facts = async (page: Page) => (await page.textContent('#series-facts'))?.replace(/\u00a0/g, ' ');

test('a rule edited with the keyboard alone moves the thresholds line and is listed in the changes', async () => {
  const page = await open(localIdentity);
  expect(await facts(page)).toContain('thresholds 55 °C to 78 °C');
  await page.focus('#rule-editor summary');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => (document.getElementById('rule-max') as HTMLInputElement).value === '78');
  expect(await page.inputValue('#rule-min')).toBe('55');
  await page.focus('#rule-max');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('80.5');
  // Tab through the periods to the reason, as a keyboard user would.
  for (const id of ['rule-for', 'rule-hysteresis', 'rule-noDataAfterSeconds', 'rule-recipients', 'rule-reason']) {
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(id);
  }
  await page.keyboard.type('summer load');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#series-facts')?.textContent?.replace(/\u00a0/g, ' ').includes('thresholds 55 °C to 80.5 °C'));
  await page.waitForSelector('#rule-history li');
  expect(await page.textContent('#rule-history li')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d · local · max 78 → 80\.5 · “summer load”$/);
  expect(await page.inputValue('#rule-max')).toBe('80.5');
});

test('a bad rule is refused beside the form with the API\'s words, and nothing changes', async () => {
  const page = await open(localIdentity);
  await openEditor(page, '80.5');
  expect(await refusedSave(page, 'min', '90')).toBe('"min" 90 is above "max" 80.5');
  await page.fill('#rule-min', '55');
  // Text in a period field reaches the API as typed: refused, never dropped as "not set".
  expect(await refusedSave(page, 'for', 'two minutes')).toBe('"for" must be a number of seconds, got "two minutes"');
  expect(await facts(page)).toContain('thresholds 55 °C to 80.5 °C');
  expect(await page.$$eval('#rule-history li', (items) => items.length)).toBe(1);
});

test('the bulk action applies the rule to every series the filter matches, after a confirm step', async () => {
  const page = await open(localIdentity);
  await page.fill('#series-filter', 'boiler');
  await page.waitForFunction(() => document.querySelector('#series-count')?.textContent?.includes('matching "boiler"'));
  await openEditor(page, '80.5');
  await page.click('#rule-bulk');
  await page.waitForSelector('#rule-confirm:not([hidden])');
  expect(await page.textContent('#rule-confirm-text')).toMatch(/^Apply this rule to the 3 series matching the filter\?/);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('rule-confirm-yes');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('rule-status')?.textContent?.startsWith('Saved: '));
  expect(await page.textContent('#rule-status')).toBe('Saved: 2 series changed, 1 already had this rule.');
  for (const series of BOILERS) {
    expect(await storedRule(page, series)).toMatchObject({ min: 55, max: 80.5 });
  }
  expect(await storedRule(page, PUMP)).toBeNull();
});

test('deployed without sign-in, the form says changes need a signed-in user', async () => {
  const page = await open(noIdentity);
  await openEditor(page, '80.5');
  expect(await refusedSave(page, 'max', '99')).toMatch(/^Changes need a signed-in user/);
  expect(await facts(page)).toContain('thresholds 55 °C to 80.5 °C');
});
