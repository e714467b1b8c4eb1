/**
 * The dashboard in a real browser (headless Chromium from Debian, driven by playwright-core):
 * the series list paged and filtered by the server, the chart with its threshold lines,
 * breaching points and alert markers, long ranges drawn whole from rollups (a min–max
 * band and the mean) and zoomed into down to the readings, ranges whose raw readings are
 * gone, the paged readings table, the CSV download, and a hostile thing id shown as text.
 * Over a simulated week of a plant (simulated-plant.ts) plus a few crafted series; leaves
 * a screenshot of the week in test-artifacts/.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildApp } from '../../web/app';
import { CHART_COLOURS } from '../../web/dashboard/chart';
import { readingsCsv } from '../../web/dashboard/csv';
import { CHART_CAP } from '../../web/dashboard/settings';
import { Decimal } from '../../handlers/decimal';
import type { AlertRecord, Page as ReadingsPage, RangeQuery, ReadingPoint, ReadingsRepository } from '../../web/repository';
import { BOILER, PLANT_SERIES, simulatedPlant } from './simulated-plant';

/** A reading as the test writes it; the repository keeps it exact. */
type Point = { readonly timestamp: string; readonly value: number };
const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const SERIES = 'things/lab/001/temperature';
const XSS = '<img src=x onerror=alert(1)>';
const XSS_SERIES = `${XSS}/temperature`;
/** Raw readings this deployment keeps: older ones are only in the rollups. */
const RAW_DAYS = 3;

const isoMicros = (millis: number): string => new Date(millis).toISOString().replace('Z', '000Z');

const now = Date.now();
const plant = simulatedPlant(now);
const repository = plant.repository;
// 60 readings of a lab thermometer, 50 s apart, over the last 50 minutes
// (inside the "1 h" preset however long the test takes): a slow wave between 17 and 27 that leaves 18-25.
const readings: Point[] = Array.from({ length: 60 }, (_, index) => ({
  timestamp: isoMicros(now - (60 - index) * 50_000),
  value: Math.round((22 + 5 * Math.sin(index / 6)) * 100) / 100,
}));
const firstBreach = readings.find((point) => point.value > 25) as Point;
const firstBack = readings.find((point) => point.timestamp > firstBreach.timestamp && point.value <= 25) as Point;
const xssReading: Point = { timestamp: isoMicros(now - 5 * 60_000), value: 3 };
const alerts: AlertRecord[] = [
  { timestamp: firstBreach.timestamp, kind: 'breach', value: n(firstBreach.value), minThreshold: n(18), maxThreshold: n(25), messageId: 'm-1' },
  { timestamp: firstBack.timestamp, kind: 'recovery', value: n(firstBack.value), minThreshold: n(18), maxThreshold: n(25), messageId: 'm-2' },
];
// A series whose values a double cannot hold: the page must show, and export, every digit.
const BIG_SERIES = 'things/big/001/energy';
const bigReadings = [
  { timestamp: isoMicros(now - 3 * 60_000), value: '12345678901234567890123456789012345678' },
  { timestamp: isoMicros(now - 2 * 60_000), value: '10000000000000001' },
];
for (const point of readings) repository.putReading(SERIES, point);
repository.putThresholds(SERIES, { min: 18, max: 25 });
for (const alert of alerts) repository.putAlert(SERIES, alert);
repository.putReading(XSS_SERIES, xssReading);
for (const point of bigReadings) repository.putReading(BIG_SERIES, point);
const ALL_SERIES = [...new Set([...PLANT_SERIES, BOILER, SERIES, XSS_SERIES, BIG_SERIES])].sort();

/** The plant's repository as a deployment keeping raw readings RAW_DAYS: older readings are gone, their rollups stay. */
const deployed: ReadingsRepository = {
  checkTables: () => repository.checkTables(),
  listSeries: () => repository.listSeries(),
  rollups: (query) => repository.rollups(query),
  alerts: (query) => repository.alerts(query),
  thresholds: (series) => repository.thresholds(series),
  readings: async (query: RangeQuery): Promise<ReadingsPage<ReadingPoint>> => {
    const kept = isoMicros(now - RAW_DAYS * 86_400_000);
    return repository.readings({ ...query, from: query.from === undefined || query.from < kept ? kept : query.from });
  },
};

function rgb(colour: string): [number, number, number] {
  const rgba = /rgba?\((\d+), (\d+), (\d+)/.exec(colour);
  if (rgba !== null) return [Number(rgba[1]), Number(rgba[2]), Number(rgba[3])];
  const value = Number.parseInt(colour.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** Counts the chart's painted pixels, and those of each given colour (a translucent fill over white blends towards white). */
async function canvasPixels(page: Page, colours: Record<string, [number, number, number]>): Promise<Record<string, number>> {
  return page.evaluate((targets) => {
    const canvas = document.querySelector<HTMLCanvasElement>('#chart canvas');
    if (canvas === null) return { painted: 0 };
    const { data } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height);
    const counts: Record<string, number> = { painted: 0 };
    for (const name of Object.keys(targets)) counts[name] = 0;
    for (let at = 0; at < data.length; at += 4) {
      if ((data[at + 3] as number) === 0) continue;
      counts.painted = (counts.painted as number) + 1;
      for (const [name, [r, g, b]] of Object.entries(targets)) {
        if (Math.abs((data[at] as number) - r) < 10 && Math.abs((data[at + 1] as number) - g) < 10 && Math.abs((data[at + 2] as number) - b) < 10) {
          counts[name] = (counts[name] as number) + 1;
        }
      }
    }
    return counts;
  }, colours);
}

/** The band's colour as painted: its alpha applied over the canvas's transparent background reads back as the colour itself. */
const BAND = rgb(CHART_COLOURS.band);

const rowTexts = (page: Page, table: string) =>
  page.$$eval(`${table} tbody tr`, (rows) => rows.map((row) => Array.from(row.querySelectorAll('td'), (cell) => cell.textContent ?? '')));

/** Drags across the plot from one fraction of its width to another, as a person zooming in would. */
async function dragAcross(page: Page, from: number, to: number): Promise<void> {
  const plot = await page.locator('#chart .u-over').boundingBox();
  if (plot === null) throw new Error('the chart has no plot area');
  await page.mouse.move(plot.x + plot.width * from, plot.y + plot.height / 2);
  await page.mouse.down();
  await page.mouse.move(plot.x + plot.width * to, plot.y + plot.height / 2, { steps: 5 });
  await page.mouse.up();
}

const note = (page: Page) => page.textContent('#chart-note').then((text) => text ?? '');
const waitForNote = (page: Page, pattern: RegExp) => page.waitForFunction((source) => new RegExp(source).test(document.querySelector('#chart-note')?.textContent ?? ''), pattern.source);

describe('dashboard in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let base: string;
  const app = buildApp({ repository: deployed });
  const dialogs: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: install the Debian package with "apt-get install -y chromium" and run the test again.`);
    }
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: { width: 1500, height: 1300 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(base);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app.close();
  });

  test('the series list shows the first page of every series from the server, the hostile id as plain text', async () => {
    await page.waitForSelector('#overview tbody tr');
    const rows = await rowTexts(page, '#overview');
    expect(rows.map((row) => row[0])).toEqual(ALL_SERIES.slice(0, 50));
    expect(rows[0]).toEqual([XSS_SERIES, '3', xssReading.timestamp, 'no threshold']);
    expect(await page.textContent('#series-count')).toBe(`1–50 of ${ALL_SERIES.length} series`);
    // The text was not parsed as HTML: no image element exists and no handler ran.
    expect(await page.$$eval('img', (images) => images.length)).toBe(0);
    expect(dialogs).toEqual([]);
  });

  test('pages through the list and filters it on the server', async () => {
    await page.click('#series-next');
    await page.waitForFunction(() => document.querySelector('#series-count')?.textContent?.startsWith('51–100'));
    expect((await rowTexts(page, '#overview')).map((row) => row[0])).toEqual(ALL_SERIES.slice(50, 100));
    await page.click('#series-previous');
    await page.waitForFunction(() => document.querySelector('#series-count')?.textContent?.startsWith('1–50'));

    await page.fill('#series-filter', 'KEW/00');
    const kew = ALL_SERIES.filter((series) => series.includes('kew/00'));
    await page.waitForFunction((expected) => document.querySelector('#series-count')?.textContent === expected, `1–${kew.length} of ${kew.length} series matching "KEW/00"`);
    expect((await rowTexts(page, '#overview')).map((row) => row[0])).toEqual(kew);
    await page.fill('#series-filter', 'no such series');
    await page.waitForFunction(() => document.querySelector('#overview-empty')?.textContent === 'No series matches "no such series".');
    await page.fill('#series-filter', 'lab/001');
    await page.waitForFunction(() => document.querySelectorAll('#overview tbody tr').length === 1);
  });

  test('choosing a series draws its readings, both thresholds, the breaching points and the alert markers', async () => {
    await page.click(`#overview .series-link:text-is("${SERIES}")`);
    await page.waitForSelector('#chart canvas');
    await waitForNote(page, /^60 readings/);
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length > 0);
    expect(await page.textContent('#series-title')).toBe(SERIES);
    expect(await page.$eval('#overview tr.selected .series-link', (link) => link.textContent)).toBe(SERIES);

    const pixels = await canvasPixels(page, { min: rgb(CHART_COLOURS.min), max: rgb(CHART_COLOURS.max), breach: rgb(CHART_COLOURS.breach), value: rgb(CHART_COLOURS.value) });
    expect(pixels.painted).toBeGreaterThan(1000);
    expect(pixels.value).toBeGreaterThan(100);
    expect(pixels.min).toBeGreaterThan(100);
    expect(pixels.max).toBeGreaterThan(100);
    expect(pixels.breach).toBeGreaterThan(20);
    expect(await page.$$eval('.u-legend .u-series th', (cells) => cells.map((cell) => cell.textContent?.trim()))).toEqual(
      expect.arrayContaining(['min threshold', 'max threshold', 'out of range']),
    );

    const markers = await page.$$eval('#chart .alert-marker', (elements) => elements.map((marker) => ({ title: (marker as HTMLElement).title, className: marker.className })));
    expect(markers).toEqual([
      { title: `breach: ${alerts[0]?.value} at ${alerts[0]?.timestamp}`, className: 'alert-marker alert-breach' },
      { title: `recovery: ${alerts[1]?.value} at ${alerts[1]?.timestamp}`, className: 'alert-marker alert-recovery' },
    ]);
    expect(await rowTexts(page, '#alerts')).toEqual(alerts.map((alert) => [alert.timestamp, alert.kind, String(alert.value), '18', '25']));
  });

  test('the readings table pages through the range, newest first, marking readings out of range', async () => {
    const state = (point: Point) => (point.value > 25 ? 'above max' : point.value < 18 ? 'below min' : '');
    const expected = [...readings].reverse().map((point) => [point.timestamp, String(point.value), state(point)]);
    expect(await rowTexts(page, '#readings')).toEqual(expected.slice(0, 50));
    expect(await page.textContent('#page-info')).toBe('Readings 1–50, newest first');
    await page.click('#page-older');
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 10);
    expect(await rowTexts(page, '#readings')).toEqual(expected.slice(50));
    expect(await page.isDisabled('#page-older')).toBe(true);
    await page.click('#page-newer');
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 50);
    expect(await page.$$eval('#readings tbody tr.breaching', (rows) => rows.length)).toBe(expected.slice(0, 50).filter((row) => row[2] !== '').length);
  });

  test('downloads the range as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    expect(download.suggestedFilename()).toBe('things_lab_001_temperature.csv');
    expect(readFileSync(await download.path(), 'utf8')).toBe(readingsCsv(SERIES, readings.map((point) => ({ timestamp: point.timestamp, value: n(point.value) }))));
  });

  test('a value beyond what a double holds is shown and exported with every digit', async () => {
    await page.evaluate((series) => (location.hash = `#${new URLSearchParams({ series })}`), BIG_SERIES);
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 2);
    expect((await rowTexts(page, '#readings')).map((row) => row[1])).toEqual(['10000000000000001', '1.2345678901234567890123456789012345678e+37']);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    expect(readFileSync(await download.path(), 'utf8')).toContain(`,${bigReadings[0]?.timestamp},1.2345678901234567890123456789012345678e+37\r\n`);
  });

  test('changing #series= in the address takes effect without a reload', async () => {
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    await page.evaluate((series) => (location.hash = `#${new URLSearchParams({ series })}`), SERIES);
    await page.waitForFunction((title) => document.querySelector('#series-title')?.textContent === title, SERIES);
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 50);
    expect(loads).toEqual([]);
  });

  test('a custom range (UTC) narrows the view', async () => {
    const inputTime = (millis: number) => new Date(millis).toISOString().slice(0, 19);
    await page.click('button[data-range="custom"]');
    await page.fill('#range-from', inputTime(Date.parse(readings[10]?.timestamp as string)));
    await page.fill('#range-to', inputTime(Date.parse(readings[19]?.timestamp as string) + 1000));
    await page.click('#apply-range');
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 10);
    expect((await rowTexts(page, '#readings')).map((row) => row[0])).toEqual(readings.slice(10, 20).reverse().map((point) => point.timestamp));
    await waitForNote(page, /^10 readings/);
  });

  describe('a week of a boiler read every 12 s', () => {
    beforeAll(async () => {
      await page.evaluate((series) => (location.hash = `#${new URLSearchParams({ series })}`), BOILER);
      await page.click('button[data-range="1h"]');
      await page.waitForFunction((title) => document.querySelector('#series-title')?.textContent === title, BOILER);
    });

    test('its last hour is drawn reading by reading', async () => {
      await waitForNote(page, /^(299|300) readings/);
      expect(await page.$$eval('.u-legend .u-series th', (cells) => cells.map((cell) => cell.textContent?.trim()))).toContain(BOILER);
    });

    test('seven days are drawn whole, from hourly rollups: a min–max band and the mean, every reading counted', async () => {
      await page.click('button[data-range="7d"]');
      await waitForNote(page, /drawn as \d+ hours/);
      const text = await note(page);
      const counted = Number(/^([\d,]+) readings/.exec(text)?.[1]?.replace(/,/g, ''));
      // The 7 d window ends at the click, a moment after the last reading: it holds the whole week but the first reading or two.
      expect(counted).toBeGreaterThan(plant.boilerReadings - 3);
      expect(counted).toBeGreaterThan(CHART_CAP);
      expect(text).toMatch(/drawn as 16[89] hours: the band spans each hour's minimum to maximum, the line is its mean/);
      const pixels = await canvasPixels(page, { band: BAND, value: rgb(CHART_COLOURS.value), max: rgb(CHART_COLOURS.max), breach: rgb(CHART_COLOURS.breach) });
      expect(pixels.band).toBeGreaterThan(2_000);
      expect(pixels.value).toBeGreaterThan(300);
      expect(pixels.max).toBeGreaterThan(100);
      // The hot afternoon's hours crossed the limit: their maxima are marked.
      expect(pixels.breach).toBeGreaterThan(20);
      expect(await page.$$eval('#chart .alert-marker', (markers) => markers.length)).toBe(plant.alerts.length);
      expect(await page.$$eval('.u-legend .u-series th', (cells) => cells.map((cell) => cell.textContent?.trim()))).toEqual(
        expect.arrayContaining([`${BOILER} (mean per hour)`, 'min per hour', 'max per hour', 'max threshold']),
      );
      // The picture for the README: the plant's own series beside the week, no test fixture in view.
      await page.fill('#series-filter', 'things/harrow');
      await page.waitForFunction(() => /of 46 series matching/.test(document.querySelector('#series-count')?.textContent ?? ''));
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
    });

    test('dragging across a recent part draws its readings, and Reset zoom draws the week again', async () => {
      // The 2.5 hours around 12 hours ago: 750 readings, still kept raw.
      await dragAcross(page, 0.915, 0.93);
      await waitForNote(page, /^\d{3} readings\. Drag/);
      expect(await page.isVisible('#reset-zoom')).toBe(true);
      await page.click('#reset-zoom');
      await waitForNote(page, /drawn as \d+ hours/);
      expect(await page.isHidden('#reset-zoom')).toBe(true);
    });

    test('zooming into a part older than the raw readings draws its minute rollups and says the readings are gone', async () => {
      await dragAcross(page, 0.1, 0.115);
      await waitForNote(page, /drawn as \d+ minutes \(min–max band and mean\): 0 of them are still kept one by one/);
      // A double-click goes back to the whole range, as uPlot users expect.
      const plot = await page.locator('#chart .u-over').boundingBox();
      if (plot === null) throw new Error('the chart has no plot area');
      await page.mouse.dblclick(plot.x + plot.width / 2, plot.y + plot.height / 2);
      await waitForNote(page, /drawn as \d+ hours/);
    });

    test('thirty days and a year are drawn from hours and days, empty before the week began', async () => {
      await page.click('button[data-range="30d"]');
      await waitForNote(page, /drawn as 16[89] hours/);
      await page.click('button[data-range="1y"]');
      await waitForNote(page, /drawn as [78] days/);
      const pixels = await canvasPixels(page, { band: BAND });
      expect(pixels.band).toBeGreaterThan(0);
    });
  });

  test('a hostile series id is shown as text in every place, and runs nothing', async () => {
    await page.evaluate((series) => (location.hash = `#${new URLSearchParams({ series })}`), XSS_SERIES);
    await page.click('button[data-range="1h"]');
    await page.waitForFunction((title) => document.querySelector('#series-title')?.textContent === title, XSS_SERIES);
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 1);
    expect(await page.$$eval('img', (images) => images.length)).toBe(0);
    expect(await page.$$eval('#chart .u-legend', (legends) => legends.map((legend) => legend.textContent).join(''))).toContain(XSS_SERIES);
    expect(dialogs).toEqual([]);
    // Includes Content-Security-Policy violations, which Chromium reports as console errors.
    expect(consoleErrors).toEqual([]);
  });
});
