/**
 * The dashboard in a real browser (headless Chromium from Debian, driven by playwright-core):
 * the overview's counts and attention order, paged and filtered by the server, local and
 * UTC times, links that hold series, range and zoom (Back included), the offline banner,
 * keyboard-only and 390 px paths, the chart with its threshold lines,
 * breaching points and alert markers, long ranges drawn whole from rollups (a min–max
 * band and the mean) and zoomed into down to the readings, ranges whose raw readings are
 * gone, the paged readings table, the CSV download, and a hostile thing id shown as text.
 * Over a simulated week of a plant (simulated-plant.ts) plus a few crafted series; leaves
 * screenshots in test-artifacts/ (console.png, console-390.png: the README's pictures,
 * copied to docs/images/).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildApp } from '../../web/app';
import { CHART_COLOURS, OVERLAY_COLOURS } from '../../web/dashboard/chart';
import { readingsCsv } from '../../web/dashboard/csv';
import { CHART_CAP, REFRESH_MS } from '../../web/dashboard/settings';
import { formatTime } from '../../web/dashboard/time';
import { Decimal } from '../../handlers/decimal';
import type { AlertRecord, Page as ReadingsPage, RangeQuery, ReadingPoint, ReadingsRepository } from '../../web/repository';
import { BOILER, BOILER_PRESSURE, PLANT_SERIES, simulatedPlant } from './simulated-plant';

/** A reading as the test writes it; the repository keeps it exact. */
type Point = { readonly timestamp: string; readonly value: number };
const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

const CHROMIUM = '/usr/bin/chromium';
/** The browser's own zone: half an hour off UTC, so local and UTC times cannot be mistaken for each other. */
const BROWSER_ZONE = 'Asia/Kolkata';
/** Chromium names it by its older alias. */
const BROWSER_ZONE_NAME = /^Asia\/(Kolkata|Calcutta)$/;
const utc = (timestamp: string): string => formatTime(timestamp, 'utc');
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
const ALL_SERIES = [...new Set([...PLANT_SERIES, BOILER, BOILER_PRESSURE, SERIES, XSS_SERIES, BIG_SERIES])].sort();

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
  let offline = false;

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
    const context = await browser.newContext({ viewport: { width: 1500, height: 1300 }, acceptDownloads: true, timezoneId: BROWSER_ZONE });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    // The offline test refuses requests on purpose; Chromium logs each refusal.
    page.on('console', (message) => message.type() === 'error' && !(offline && message.text().includes('ERR_CONNECTION_REFUSED')) && consoleErrors.push(message.text()));
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    // The page's clock runs at real speed, but a test can move it on: the ten-second auto-refresh is brought forward, not waited for.
    await page.clock.install();
    await page.goto(base);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app.close();
  });

  /** The overview's rows as the server orders them, by series id. */
  const overviewSeries = (target: Page = page) => target.$$eval('#overview tbody tr', (rows) => rows.map((row) => (row as HTMLElement).dataset.series));
  const apiSeries = async (parameters: Record<string, string>) =>
    ((await (await fetch(`${base}/api/series?${new URLSearchParams({ sort: 'attention', limit: '50', ...parameters })}`)).json()) as { series: { series: string }[] }).series.map((entry) => entry.series);

  test('the overview counts series by status and lists the breached, then the silent, first, with for how long', async () => {
    await page.waitForSelector('#overview tbody tr');
    const counts = Object.fromEntries(await page.$$eval('[data-count]', (badges) => badges.map((badge) => [(badge as HTMLElement).dataset.count, badge.textContent])));
    const silent = ALL_SERIES.filter((series) => /things\/(wembley\/014|kew\/009)\//.test(series));
    expect(counts['no-data']).toBe(String(silent.length));
    expect(Number(counts.all)).toBe(ALL_SERIES.length);
    expect(Number(counts.breached)).toBeGreaterThan(0);
    const rows = await rowTexts(page, '#overview');
    const statuses = rows.map((row) => row[2]);
    const firstQuiet = statuses.indexOf('no data');
    // Breached rows, then the silent ones, then the rest.
    expect(statuses.slice(0, firstQuiet).every((status) => status === 'breached')).toBe(true);
    expect(statuses.slice(firstQuiet, firstQuiet + silent.length)).toEqual(silent.map(() => 'no data'));
    expect(rows[0]?.[3]).toMatch(/^for \d+ (min|h)/);
    expect(rows[firstQuiet]?.[3]).toMatch(/^for 3 h 20 min$/);
    expect(await overviewSeries()).toEqual(await apiSeries({}));
    // Names and units from the metric metadata.
    expect(rows.find((row) => row[0]?.includes('wembley/014') && row[0].endsWith('Flow'))?.[1]).toMatch(/^[\d.]+\s(m³\/h)$/);
    expect(await page.textContent('#series-count')).toBe(`1–50 of ${ALL_SERIES.length} series, most urgent first`);
  });

  test('a status button keeps that status only; the hostile id is shown as plain text', async () => {
    await page.click('[data-status="no-data"]');
    await page.waitForFunction(() => document.querySelector('#series-count')?.textContent?.includes(', no data'));
    expect(await page.getAttribute('[data-status="no-data"]', 'aria-pressed')).toBe('true');
    expect(await overviewSeries()).toEqual(await apiSeries({ status: 'no-data' }));
    expect(new Set((await rowTexts(page, '#overview')).map((row) => row[2]))).toEqual(new Set(['no data']));
    // The series' own view says so too.
    await page.click('#overview tbody tr:first-child .series-link');
    await page.waitForFunction(() => / · no data for 3 h 20 min$/.test(document.querySelector('#series-facts')?.textContent ?? ''));
    await page.click('[data-status=""]');
    await page.fill('#series-filter', 'onerror');
    await page.waitForFunction(() => document.querySelectorAll('#overview tbody tr').length === 1);
    expect((await rowTexts(page, '#overview'))[0]?.[0]).toBe(`${XSS}Temperature`);
    // The text was not parsed as HTML: no image element exists and no handler ran.
    expect(await page.$$eval('img', (images) => images.length)).toBe(0);
    expect(dialogs).toEqual([]);
    await page.fill('#series-filter', '');
    await page.waitForFunction((total) => document.querySelector('#series-count')?.textContent?.startsWith(`1–50 of ${total} `), ALL_SERIES.length);
  });

  test('pages through the list and filters it on the server', async () => {
    await page.click('#series-next');
    await page.waitForFunction(() => document.querySelector('#series-count')?.textContent?.startsWith('51–100'));
    expect(await overviewSeries()).toEqual((await apiSeries({ limit: '100' })).slice(50, 100));
    await page.click('#series-previous');
    await page.waitForFunction(() => document.querySelector('#series-count')?.textContent?.startsWith('1–50'));

    await page.fill('#series-filter', 'KEW/00');
    const kew = ALL_SERIES.filter((series) => series.includes('kew/00'));
    await page.waitForFunction((expected) => document.querySelector('#series-count')?.textContent === expected, `1–${kew.length} of ${kew.length} series matching "KEW/00", most urgent first`);
    expect(await overviewSeries()).toEqual(await apiSeries({ q: 'kew/00' }));
    await page.fill('#series-filter', 'no such series');
    await page.waitForFunction(() => document.querySelector('#overview-empty')?.textContent === 'No series matching "no such series".');
    await page.fill('#series-filter', 'lab/001');
    await page.waitForFunction(() => document.querySelectorAll('#overview tbody tr').length === 1);
  });

  test('times are in the browser\'s zone until UTC is chosen, which the browser remembers', async () => {
    const lab = readings[readings.length - 1] as Point;
    await page.click('#overview .series-link');
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length > 0);
    expect(/^Time \((.*)\)$/.exec((await page.textContent('#readings th.time-heading')) ?? '')?.[1]).toMatch(BROWSER_ZONE_NAME);
    const shifted = new Date(Date.parse(lab.timestamp) + 5.5 * 3_600_000).toISOString();
    expect((await rowTexts(page, '#readings'))[0]?.[0]).toBe(utc(shifted));
    await page.selectOption('#time-zone', 'utc');
    await page.waitForFunction(() => document.querySelector('#readings th.time-heading')?.textContent === 'Time (UTC)');
    expect((await rowTexts(page, '#readings'))[0]?.[0]).toBe(utc(lab.timestamp));
    // Readable: no "T", no zone letter, no microseconds.
    expect((await rowTexts(page, '#readings'))[0]?.[0]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{3})?$/);
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length > 0);
    expect(await page.inputValue('#time-zone')).toBe('utc');
    expect((await rowTexts(page, '#readings'))[0]?.[0]).toBe(utc(lab.timestamp));
    await page.fill('#series-filter', 'lab/001');
    await page.waitForFunction(() => document.querySelectorAll('#overview tbody tr').length === 1);
  });

  test('choosing a series draws its readings, both thresholds, the breaching points and the alert markers', async () => {
    await page.click(`#overview tr[data-series="${SERIES}"] .series-link`);
    await page.waitForSelector('#chart canvas');
    await waitForNote(page, /^60 readings/);
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length > 0);
    expect(await page.textContent('#series-title')).toBe(SERIES);
    expect(await page.$eval('#overview tr.selected', (row) => (row as HTMLElement).dataset.series)).toBe(SERIES);

    const pixels = await canvasPixels(page, { min: rgb(CHART_COLOURS.min), max: rgb(CHART_COLOURS.max), breach: rgb(CHART_COLOURS.breach), value: rgb(CHART_COLOURS.value) });
    expect(pixels.painted).toBeGreaterThan(1000);
    expect(pixels.value).toBeGreaterThan(100);
    expect(pixels.min).toBeGreaterThan(100);
    expect(pixels.max).toBeGreaterThan(100);
    expect(pixels.breach).toBeGreaterThan(20);
    expect(await page.$$eval('.u-legend .u-series th', (cells) => cells.map((cell) => cell.textContent?.trim()))).toEqual(
      expect.arrayContaining(['min threshold', 'max threshold', 'out of range']),
    );

    const markers = await page.$$eval('#chart .alert-marker', (elements) => elements.map((marker) => ({ title: (marker as HTMLElement).title, className: marker.className, tag: marker.tagName })));
    expect(markers).toEqual([
      { title: `breach: ${alerts[0]?.value} at ${utc(alerts[0]?.timestamp as string)}`, className: 'alert-marker alert-breach', tag: 'BUTTON' },
      { title: `recovery: ${alerts[1]?.value} at ${utc(alerts[1]?.timestamp as string)}`, className: 'alert-marker alert-recovery', tag: 'BUTTON' },
    ]);
    expect(await rowTexts(page, '#alerts')).toEqual(alerts.map((alert) => [utc(alert.timestamp), alert.kind, String(alert.value), '18', '25']));
    // Details without hover: a click (or a tap, or Enter) on the marker.
    await page.click('#chart .alert-marker.alert-breach');
    expect(await page.textContent('#alert-detail')).toBe(`Breach at ${utc(alerts[0]?.timestamp as string)}: ${alerts[0]?.value}\u00a0°C (min 18\u00a0°C, max 25\u00a0°C).`);
    expect(await page.$$eval('#alerts tr.highlight', (rows) => rows.length)).toBe(1);
  });

  test('the readings table pages through the range, newest first, marking readings out of range', async () => {
    const state = (point: Point) => (point.value > 25 ? 'above max' : point.value < 18 ? 'below min' : '');
    const expected = [...readings].reverse().map((point) => [utc(point.timestamp), String(point.value), state(point)]);
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

  test('a custom range, typed in 24-hour time in the zone shown, narrows the view; a bad time is refused by name', async () => {
    const inputTime = (millis: number) => new Date(millis).toISOString().slice(0, 19).replace('T', ' ');
    await page.click('button[data-range="custom"]');
    expect(await page.textContent('#range-zone')).toBe('UTC');
    await page.fill('#range-from', '2026-11-30 7:00 pm');
    await page.click('#apply-range');
    expect(await page.textContent('#range-error')).toBe('From: write a time as YYYY-MM-DD HH:mm (24-hour, UTC).');
    await page.fill('#range-from', inputTime(Date.parse(readings[10]?.timestamp as string)));
    await page.fill('#range-to', inputTime(Date.parse(readings[19]?.timestamp as string) + 1000));
    await page.click('#apply-range');
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 10);
    expect((await rowTexts(page, '#readings')).map((row) => row[0])).toEqual(readings.slice(10, 20).reverse().map((point) => utc(point.timestamp)));
    await waitForNote(page, /^10 readings/);
    expect(await page.getAttribute('button[data-range="custom"]', 'aria-pressed')).toBe('true');
    expect(new URLSearchParams(new URL(page.url()).hash.slice(1)).get('range')).toMatch(/^\d{4}-.*Z\/\d{4}-.*Z$/);
  });

  test('the x axis spans the chosen range, so 24 h of a series that began 50 minutes ago is mostly empty', async () => {
    await page.click('button[data-range="24h"]');
    await waitForNote(page, /^60 readings/);
    const columns = await page.evaluate((colour) => {
      const canvas = document.querySelector<HTMLCanvasElement>('#chart canvas') as HTMLCanvasElement;
      const { data, width, height } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height);
      const xs: number[] = [];
      for (let at = 0; at < data.length; at += 4) {
        if (Math.abs((data[at] as number) - colour[0]) < 10 && Math.abs((data[at + 1] as number) - colour[1]) < 10 && Math.abs((data[at + 2] as number) - colour[2]) < 10 && (data[at + 3] as number) > 0) xs.push((at / 4) % width);
      }
      return { min: Math.min(...xs), max: Math.max(...xs), width, height };
    }, rgb(CHART_COLOURS.value));
    // The readings' line lies within the last hour of 24: the right 1/24 of the plot, give or take the axis.
    expect(columns.min).toBeGreaterThan(columns.width * 0.9);
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
      await page.fill('#series-filter', 'things/');
      await page.waitForFunction(() => /series matching "things\/"/.test(document.querySelector('#series-count')?.textContent ?? ''));
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.mouse.move(0, 0);
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      expect(await page.isHidden('#custom-range')).toBe(true);
      await page.screenshot({ path: path.join(ARTIFACTS, 'console.png') });
    });

    test('dragging across a recent part draws its readings, the table, alerts and link follow, Back and Reset zoom draw the week again', async () => {
      // The 2.5 hours around 12 hours ago: 750 readings, still kept raw.
      await dragAcross(page, 0.915, 0.93);
      await waitForNote(page, /^\d{3} readings\. Drag/);
      expect(await page.isVisible('#reset-zoom')).toBe(true);
      const zoom = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('zoom') as string;
      const [from, to] = zoom.split('/') as [string, string];
      expect(Date.parse(to) - Date.parse(from)).toBeGreaterThan(3_600_000);
      // The table holds the newest readings of the part in view, not of the week.
      await page.waitForFunction((end) => {
        const first = document.querySelector('#readings tbody tr td')?.getAttribute('title') ?? '';
        return first !== '' && first <= end;
      }, new Date(Date.parse(to)).toISOString().replace('Z', '999Z'));
      expect(await page.textContent('#alerts-note')).toBe('No alerts in view.');
      // The CSV holds the readings in view, not the week's.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
      const times = readFileSync(await download.path(), 'utf8').trim().split('\r\n').slice(1).map((line) => Date.parse(line.split(',')[1] as string));
      expect(times.length).toBeGreaterThan(100);
      expect(Math.min(...times)).toBeGreaterThanOrEqual(Date.parse(from));
      expect(Math.max(...times)).toBeLessThanOrEqual(Date.parse(to));
      // The same link in a new tab shows the same view.
      const other = await page.context().newPage();
      await other.goto(page.url());
      await other.waitForFunction(() => /^\d{3} readings\. Drag/.test(document.querySelector('#chart-note')?.textContent ?? ''));
      expect(await other.textContent('#chart-note')).toBe(await note(page));
      await other.close();
      // Back: the week again, then Forward: the zoom.
      await page.goBack();
      await waitForNote(page, /drawn as \d+ hours/);
      expect(await page.$$eval('#alerts tbody tr', (rows) => rows.length)).toBe(plant.alerts.length);
      await page.goForward();
      await waitForNote(page, /^\d{3} readings\. Drag/);
      await page.click('#reset-zoom');
      await waitForNote(page, /drawn as \d+ hours/);
      expect(await page.isHidden('#reset-zoom')).toBe(true);
      expect(new URL(page.url()).hash).not.toContain('zoom=');
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

    test('the boiler\'s pressure overlaid on its temperature, on an axis of its own, saved in the link', async () => {
      await page.click('button[data-range="7d"]');
      await waitForNote(page, /drawn as \d+ hours/);
      await page.fill('#compare-input', BOILER_PRESSURE);
      await page.click('#compare-add');
      await page.waitForFunction((label) => Array.from(document.querySelectorAll('.u-legend .u-series th')).some((cell) => cell.textContent?.trim() === label), `${BOILER_PRESSURE} (mean per hour)`);
      expect(new URLSearchParams(new URL(page.url()).hash.slice(1)).getAll('compare')).toEqual([BOILER_PRESSURE]);
      // A second y axis (bar beside °C), and both lines drawn.
      expect(await page.$$eval('#chart .u-axis', (axes) => axes.length)).toBe(3);
      const pixels = await canvasPixels(page, { overlay: rgb(OVERLAY_COLOURS[0]), value: rgb(CHART_COLOURS.value) });
      expect(pixels.overlay).toBeGreaterThan(300);
      expect(pixels.value).toBeGreaterThan(300);
      // The README's picture of it: the view from its title to the note under the chart.
      await page.mouse.move(0, 0);
      const section = await page.locator('#view-section').boundingBox();
      const chartNote = await page.locator('#chart-note').boundingBox();
      if (section === null || chartNote === null) throw new Error('the view is not laid out');
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-compare.png'), clip: { x: section.x - 8, y: section.y - 8, width: section.width + 16, height: chartNote.y + chartNote.height - section.y + 16 } });
      // The link opens the same overlay.
      const other = await page.context().newPage();
      await other.goto(page.url());
      await other.waitForFunction((label) => Array.from(document.querySelectorAll('.u-legend .u-series th')).some((cell) => cell.textContent?.trim() === label), `${BOILER_PRESSURE} (mean per hour)`);
      await other.close();
      await page.click(`#compare-list button[aria-label="Stop comparing ${BOILER_PRESSURE}"]`);
      await page.waitForFunction(() => document.querySelectorAll('#chart .u-axis').length === 2);
      expect(new URL(page.url()).hash).not.toContain('compare=');
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

  test('when the API cannot be reached, a banner says so and since when, and what is shown is greyed; it clears on the next answer', async () => {
    offline = true;
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    // The next auto-refresh finds the API unreachable.
    await page.clock.fastForward(REFRESH_MS);
    await page.waitForSelector('#connection:not([hidden])');
    expect(await page.textContent('#connection-title')).toBe('Offline: the web app cannot be reached.');
    expect(await page.textContent('#connection-detail')).toMatch(/^What is shown is as of \d{2}:\d{2}:\d{2} \(\d+ s ago\) and may be out of date; retrying every 10 s\.$/);
    expect(await page.textContent('#updated')).toMatch(/^Last update \d{2}:\d{2}:\d{2}$/);
    expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(true);
    expect(await page.$eval('#overview tbody', (element) => getComputedStyle(element).opacity)).toBe('0.45');
    expect(await page.textContent('body')).not.toContain('Failed to fetch');
    await page.unroute('**/api/**');
    await page.click('#retry');
    await page.waitForSelector('#connection[hidden]', { state: 'attached' });
    offline = false;
    expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(false);
    expect(await page.textContent('#updated')).toMatch(/^Updated \d{2}:\d{2}:\d{2}$/);
  });

  test('keyboard only: a skip link to the filter, a series chosen with Enter keeps focus through a refresh, range buttons and alert details by key', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#overview tbody tr');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the series filter');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('series-filter');
    await page.keyboard.type('lab/001');
    await page.waitForFunction(() => document.querySelectorAll('#overview tbody tr').length === 1);
    // Past the disabled Previous and Next, the series itself.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.closest('tr')?.dataset.series)).toBe(SERIES);
    await page.keyboard.press('Enter');
    await page.waitForFunction((series) => document.querySelector('#series-title')?.textContent === series, SERIES);
    await page.evaluate(() => ((document.activeElement as HTMLElement & { marked?: boolean }).marked = true));
    const refreshed = page.waitForResponse((response) => response.url().includes('/api/series'));
    await page.clock.fastForward(REFRESH_MS);
    await refreshed;
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => (document.activeElement as HTMLElement & { marked?: boolean }).marked === true)).toBe(true);

    // Back up the page to the second skip link, which goes to the chart's section.
    const onSkipToChart = () => page.evaluate(() => document.activeElement?.textContent === 'Skip to the chart');
    for (let presses = 0; presses < 15 && !(await onSkipToChart()); presses++) await page.keyboard.press('Shift+Tab');
    expect(await onSkipToChart()).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('view-section');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('24 h');
    await page.keyboard.press('Enter');
    expect(await page.getAttribute('button[data-range="24h"]', 'aria-pressed')).toBe('true');
    expect(await page.getAttribute('button[data-range="1h"]', 'aria-pressed')).toBe('false');
    await waitForNote(page, /^60 readings/);
    for (let presses = 0; presses < 12 && !(await page.evaluate(() => document.activeElement?.classList.contains('alert-marker'))); presses++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await page.textContent('#alert-detail')).toMatch(/^Breach at /);
  });

  test('at 390 px wide: no sideways scrolling, the status column in view, and a finger drag zooms', async () => {
    // Chromium's touch slop swallows small movements; the drag below is long enough to be one.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2, timezoneId: BROWSER_ZONE });
    const mobile = await phone.newPage();
    mobile.setDefaultTimeout(15_000);
    mobile.on('pageerror', (error) => consoleErrors.push(error.message));
    await mobile.goto(`${base}/#${new URLSearchParams({ series: BOILER, range: '7d' })}`);
    await mobile.waitForFunction(() => /drawn as \d+ hours/.test(document.querySelector('#chart-note')?.textContent ?? ''));
    await mobile.waitForSelector('#overview tbody tr');
    // Whatever would stick out, by name, so a failure says what to fix.
    const sticking = await mobile.evaluate(() => Array.from(document.querySelectorAll('body *')).filter((node) => node.getBoundingClientRect().right > 390.5).map((node) => `${node.tagName.toLowerCase()}#${node.id}.${node.className}`));
    expect(sticking).toEqual([]);
    expect(await mobile.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const status = await mobile.locator('#overview tbody tr:first-child td:nth-child(3)').boundingBox();
    expect((status?.x ?? 1000) + (status?.width ?? 0)).toBeLessThanOrEqual(390);
    await mobile.screenshot({ path: path.join(ARTIFACTS, 'console-390.png') });

    // A finger, as Chromium's input pipeline receives one (playwright's touchscreen only taps).
    const cdp = await phone.newCDPSession(mobile);
    await mobile.evaluate(() => document.querySelector('#chart')?.scrollIntoView());
    const inView = await mobile.locator('#chart .u-over').boundingBox();
    if (inView === null) throw new Error('the chart has no plot area');
    const touchY = inView.y + inView.height / 2;
    const send = (type: 'touchStart' | 'touchMove' | 'touchEnd', x: number) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y: touchY }] });
    // From the middle to 90 %: the last three days and a bit, the hot afternoon among them.
    await send('touchStart', inView.x + inView.width * 0.5);
    for (const fraction of [0.6, 0.7, 0.8, 0.9]) await send('touchMove', inView.x + inView.width * fraction);
    await send('touchEnd', 0);
    await mobile.waitForFunction(() => new URL(location.href).hash.includes('zoom='));
    await mobile.waitForFunction(() => /^[\d,]+ readings, drawn as \d+ hours/.test(document.querySelector('#chart-note')?.textContent ?? '') && !document.querySelector('#reset-zoom')?.hasAttribute('hidden'));
    const zoom = (new URLSearchParams(new URL(mobile.url()).hash.slice(1)).get('zoom') as string).split('/').map(Date.parse) as [number, number];
    // About 40 % of the week.
    expect((zoom[1] - zoom[0]) / (7 * 86_400_000)).toBeGreaterThan(0.3);
    expect((zoom[1] - zoom[0]) / (7 * 86_400_000)).toBeLessThan(0.5);
    await phone.close();
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
