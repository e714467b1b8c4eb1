/**
 * Times as a person reads them: `2026-11-30 18:08:47` in local time or UTC (a switch the
 * browser remembers), 24-hour everywhere, and how long ago. The API's own timestamps
 * (`2026-11-30T18:08:47.207000Z`) stay in tooltips, the CSV and the link.
 */

export type TimeZoneChoice = 'local' | 'utc';

const STORAGE_KEY = 'iot-console.time-zone';

/** The zone chosen last time in this browser; local time unless UTC was chosen. */
export function savedTimeZone(): TimeZoneChoice {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'utc' ? 'utc' : 'local';
  } catch {
    // Storage refused (private mode, policy): the default, and nothing remembered.
    return 'local';
  }
}

export function saveTimeZone(zone: TimeZoneChoice): void {
  try {
    localStorage.setItem(STORAGE_KEY, zone);
  } catch {
    // Not remembered: the switch still works for this page.
  }
}

/** The zone's name as column headings and inputs say it: `UTC`, or the browser's zone, e.g. `Europe/London`. */
export const zoneName = (zone: TimeZoneChoice): string => (zone === 'utc' ? 'UTC' : (Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local time'));

const formatters = new Map<TimeZoneChoice, Intl.DateTimeFormat>();

function formatter(zone: TimeZoneChoice): Intl.DateTimeFormat {
  let found = formatters.get(zone);
  if (found === undefined) {
    found = new Intl.DateTimeFormat('en-GB', {
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
      ...(zone === 'utc' ? { timeZone: 'UTC' } : {}),
    });
    formatters.set(zone, found);
  }
  return found;
}

/** Year, month, day, hour, minute and second of an instant in the zone. */
export function wallClock(millis: number, zone: TimeZoneChoice): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', string> {
  const parts: Record<string, string> = {};
  for (const part of formatter(zone).formatToParts(new Date(millis))) parts[part.type] = part.value;
  return parts as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', string>;
}

/**
 * `2026-11-30 18:08:47` (with `.207` when the reading has milliseconds), or only the
 * minutes with `minutes`. Takes the API's timestamps or epoch milliseconds.
 */
export function formatTime(time: string | number, zone: TimeZoneChoice, precision: 'seconds' | 'minutes' = 'seconds'): string {
  const millis = typeof time === 'number' ? time : Date.parse(time);
  if (Number.isNaN(millis)) return String(time);
  const { year, month, day, hour, minute, second } = wallClock(millis, zone);
  if (precision === 'minutes') return `${year}-${month}-${day} ${hour}:${minute}`;
  const fraction = millis % 1000 === 0 ? '' : `.${String(((millis % 1000) + 1000) % 1000).padStart(3, '0')}`;
  return `${year}-${month}-${day} ${hour}:${minute}:${second}${fraction}`;
}

/** `HH:mm:ss` of an instant, for "updated at". */
export const formatClock = (millis: number, zone: TimeZoneChoice): string => formatTime(millis, zone).slice(11, 19);

/** `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`. */
export function formatDuration(millis: number): string {
  const seconds = Math.max(0, Math.round(millis / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

const INPUT_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** The custom range's text format, 24-hour, in the chosen zone. */
export const INPUT_FORMAT = 'YYYY-MM-DD HH:mm';

/** A typed time (`2026-11-30 18:00`, seconds optional) in the zone, as epoch ms; undefined when it is not one. */
export function parseInputTime(text: string, zone: TimeZoneChoice): number | undefined {
  const match = INPUT_TIME.exec(text.trim());
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const millis = zone === 'utc' ? Date.UTC(year, month - 1, day, hour, minute, second) : new Date(year, month - 1, day, hour, minute, second).getTime();
  // 2026-02-30 rolls over to March: refused rather than read as another day.
  const back = wallClock(millis, zone);
  return Number(back.month) === month && Number(back.day) === day && Number(back.hour) === hour ? millis : undefined;
}

/** An instant as the custom range's inputs show it. */
export const inputTime = (millis: number, zone: TimeZoneChoice): string => formatTime(millis - (millis % 60_000), zone, 'minutes');
