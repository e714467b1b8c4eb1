/** CSV export of a series' readings (RFC 4180), safe to open in a spreadsheet. */
import type { ReadingPoint, RollupPoint } from '../api-types';

/**
 * Quotes a field when it needs quoting, and defuses text a spreadsheet would run as a
 * formula (a thing id may start with `=`, `+`, `-` or `@`).
 */
export function csvField(text: string): string {
  const defused = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(defused) ? `"${defused.replace(/"/g, '""')}"` : defused;
}

export function readingsCsv(series: string, points: readonly ReadingPoint[]): string {
  const rows = ['series,timestamp,value'];
  const seriesField = csvField(series);
  // The value's exact digits, as stored: a spreadsheet may round them, the file does not.
  for (const point of points) rows.push(`${seriesField},${point.timestamp},${point.value.text}`);
  return `${rows.join('\r\n')}\r\n`;
}

/** A file name made of the series id's safe characters. */
export const csvFileName = (series: string): string => `${series.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'series'}.csv`;

/** The buckets drawn, for a range drawn from its rollups: each bucket's start, count, exact min and max, and mean. */
export function rollupsCsv(series: string, step: string, buckets: readonly RollupPoint[]): string {
  const rows = ['series,step,start,count,min,max,mean'];
  const seriesField = csvField(series);
  for (const bucket of buckets) rows.push(`${seriesField},${step},${bucket.start},${bucket.count},${bucket.min.text},${bucket.max.text},${bucket.mean}`);
  return `${rows.join('\r\n')}\r\n`;
}
