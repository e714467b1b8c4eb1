/**
 * The dashboard in a real browser (headless Chromium from Debian, driven by
 * playwright-core) over seeded data: series picking and filtering, the chart with its
 * threshold lines, breaching points and alert markers, the paged readings table, the
 * CSV download, and a hostile thing id shown as text. Leaves a screenshot in
 * test-artifacts/.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildApp } from '../../web/app';
import { CHART_COLOURS } from '../../web/dashboard/chart';
import { readingsCsv } from '../../web/dashboard/csv';
import { Decimal } from '../../handlers/decimal';
import { InMemoryRepository, type AlertRecord } from '../../web/repository';

/** A reading as the test writes it; the repository keeps it exact. */
type Point = { readonly timestamp: string; readonly value: number };
const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const SERIES = 'things/harrow/001/temperature';
const XSS = '<img src=x onerror=alert(1)>';
const XSS_SERIES = `${XSS}/temperature`;

const isoMicros = (millis: number): string => new Date(millis).toISOString().replace('Z', '000Z');

// 60 readings, 50 s apart, from 50 minutes ago (well inside the "1 h" preset however
// long the test takes): a slow wave between 17 and 27 that leaves the 18-25 range.
const now = Date.now();
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

function rgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** Counts the chart's painted pixels, and those of each given colour. */
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

const rowTexts = (page: Page, table: string) =>
  page.$$eval(`${table} tbody tr`, (rows) => rows.map((row) => Array.from(row.querySelectorAll('td'), (cell) => cell.textContent ?? '')));

describe('dashboard in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let base: string;
  const app = buildApp({
    repository: (() => {
      const repository = new InMemoryRepository();
      for (const point of readings) repository.putReading(SERIES, point);
      repository.putThresholds(SERIES, { min: 18, max: 25 });
      for (const alert of alerts) repository.putAlert(SERIES, alert);
      repository.putReading(XSS_SERIES, xssReading);
      for (const point of bigReadings) repository.putReading(BIG_SERIES, point);
      return repository;
    })(),
  });
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
    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
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

  test('the overview lists every series with its latest value and status, the hostile id as plain text', async () => {
    await page.waitForSelector('#overview tbody tr');
    expect(await rowTexts(page, '#overview')).toEqual([
      [XSS_SERIES, '3', xssReading.timestamp, 'no threshold'],
      [BIG_SERIES, '10000000000000001', bigReadings[1]?.timestamp, 'no threshold'],
      [SERIES, String(readings[59]?.value), readings[59]?.timestamp, 'ok'],
    ]);
    // The text was not parsed as HTML: no image element exists and no handler ran.
    expect(await page.$$eval('img', (images) => images.length)).toBe(0);
    expect(dialogs).toEqual([]);
  });

  test('the picker filters the series', async () => {
    await page.fill('#series-filter', 'harrow');
    expect(await page.$$eval('#series-select option', (options) => options.map((option) => option.textContent))).toEqual([SERIES]);
    await page.fill('#series-filter', '');
    expect(await page.$$eval('#series-select option', (options) => options.length)).toBe(3);
  });

  test('choosing a series draws its readings, both thresholds, the breaching points and the alert markers', async () => {
    await page.selectOption('#series-select', SERIES);
    await page.waitForSelector('#chart canvas');
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length > 0);
    expect(await page.textContent('#series-title')).toBe(SERIES);

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
    expect(download.suggestedFilename()).toBe('things_harrow_001_temperature.csv');
    const file = await download.path();
    expect(readFileSync(file, 'utf8')).toBe(readingsCsv(SERIES, readings.map((point) => ({ timestamp: point.timestamp, value: n(point.value) }))));
  });

  test('a value beyond what a double holds is shown and exported with every digit', async () => {
    await page.selectOption('#series-select', BIG_SERIES);
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 2);
    expect((await rowTexts(page, '#readings')).map((row) => row[1])).toEqual(['10000000000000001', '1.2345678901234567890123456789012345678e+37']);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    expect(readFileSync(await download.path(), 'utf8')).toContain(`,${bigReadings[0]?.timestamp},1.2345678901234567890123456789012345678e+37\r\n`);
    await page.selectOption('#series-select', SERIES);
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 50);
  });

  test('changing #series= in the address takes effect without a reload', async () => {
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    await page.evaluate((series) => (location.hash = `#${new URLSearchParams({ series })}`), BIG_SERIES);
    await page.waitForFunction((title) => document.querySelector('#series-title')?.textContent === title, BIG_SERIES);
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 2);
    expect(await page.$eval('#series-select', (select) => (select as HTMLSelectElement).value)).toBe(BIG_SERIES);
    await page.evaluate((series) => (location.hash = `#${new URLSearchParams({ series })}`), SERIES);
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 50);
    expect(loads).toEqual([]);
  });

  test('the 24 h preset reloads the view with the same readings', async () => {
    await page.click('button[data-range="24h"]');
    await page.waitForFunction(() => document.querySelector('button[data-range="24h"]')?.getAttribute('aria-pressed') === 'true');
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 50);
    expect((await page.textContent('#chart-note')) ?? '').toMatch(/^60 readings/);
  });

  test('a custom range (UTC) narrows the view, and dragging across the chart zooms in', async () => {
    const inputTime = (millis: number) => new Date(millis).toISOString().slice(0, 19);
    await page.click('button[data-range="custom"]');
    await page.fill('#range-from', inputTime(Date.parse(readings[10]?.timestamp as string)));
    await page.fill('#range-to', inputTime(Date.parse(readings[19]?.timestamp as string) + 1000));
    await page.click('#apply-range');
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 10);
    expect((await rowTexts(page, '#readings')).map((row) => row[0])).toEqual(readings.slice(10, 20).reverse().map((point) => point.timestamp));
    expect(await page.textContent('#chart-note')).toMatch(/^10 readings/);

    expect(await page.isHidden('#reset-zoom')).toBe(true);
    const plot = await page.locator('#chart .u-over').boundingBox();
    if (plot === null) throw new Error('the chart has no plot area');
    await page.mouse.move(plot.x + plot.width * 0.2, plot.y + plot.height / 2);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width * 0.5, plot.y + plot.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector('#reset-zoom', { state: 'visible' });
    await page.click('#reset-zoom');
    await page.waitForSelector('#reset-zoom', { state: 'hidden' });
    // uPlot's own double-click zooms out too, and the page follows.
    await page.mouse.move(plot.x + plot.width * 0.3, plot.y + plot.height / 2);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width * 0.6, plot.y + plot.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector('#reset-zoom', { state: 'visible' });
    await page.mouse.dblclick(plot.x + plot.width / 2, plot.y + plot.height / 2);
    await page.waitForSelector('#reset-zoom', { state: 'hidden' });
    await page.click('button[data-range="1h"]');
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 50);
  });

  test('a hostile series id is shown as text in every place, and runs nothing', async () => {
    await page.selectOption('#series-select', XSS_SERIES);
    await page.waitForFunction((title) => document.querySelector('#series-title')?.textContent === title, XSS_SERIES);
    await page.waitForFunction(() => document.querySelectorAll('#readings tbody tr').length === 1);
    expect(await page.$$eval('img', (images) => images.length)).toBe(0);
    expect(await page.$$eval('#chart .u-legend', (legends) => legends.map((legend) => legend.textContent).join(''))).toContain(XSS_SERIES);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.selectOption('#series-select', SERIES);
    await page.waitForFunction((title) => document.querySelector('#series-title')?.textContent === title, SERIES);
    await page.waitForSelector('#chart .alert-marker');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    // Includes Content-Security-Policy violations, which Chromium reports as console errors.
    expect(consoleErrors).toEqual([]);
  });
});
