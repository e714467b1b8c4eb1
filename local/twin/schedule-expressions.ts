/**
 * EventBridge Scheduler's schedule expressions, as AWS documents them, for the local twin:
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 *
 * - `rate(value unit)`: a positive whole number and `minute(s)`, `hour(s)` or `day(s)`;
 *   the unit singular for 1 and plural otherwise (`rate(1 hours)` is refused, as EventBridge
 *   documents for rate expressions). The first run is at the start date, or at once
 *   without one, then one every period.
 * - `cron(minutes hours day-of-month month day-of-week year)`: six fields; `, - * /` in
 *   each, `?` in one of the two day fields (exactly one of them must be `?`), `L` and `W`
 *   in day-of-month, `L` and `#` in day-of-week; months 1-12 or JAN-DEC, days of the week
 *   1-7 or SUN-SAT (1 is Sunday); years 1970-2199.
 * - `at(yyyy-mm-ddThh:mm:ss)`: once.
 *
 * Times are evaluated in UTC; the twin refuses another `schedule_expression_timezone`
 * rather than guess at daylight-saving rules.
 */

export type ScheduleExpression =
  | { readonly kind: 'rate'; readonly periodMs: number }
  | { readonly kind: 'cron'; readonly fields: CronFields }
  | { readonly kind: 'at'; readonly at: number };

interface CronFields {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly years: ReadonlySet<number>;
  /** Exactly one of the day fields is given; the other is `?`. */
  readonly day: { readonly of: 'month'; readonly matches: (date: Date) => boolean } | { readonly of: 'week'; readonly matches: (date: Date) => boolean };
}

export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
}

const fail = (expression: string, why: string): never => {
  throw new ScheduleExpressionError(`${JSON.stringify(expression)} is not a schedule expression EventBridge Scheduler takes: ${why}`);
};

const UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function parseRate(expression: string, body: string): ScheduleExpression {
  const match = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body);
  if (match === null) return fail(expression, 'write rate(value unit) with a positive whole number and minute(s), hour(s) or day(s)');
  const value = Number(match[1]);
  const unit = match[2] as string;
  if (value < 1) fail(expression, 'the value must be a positive number');
  if ((value === 1) !== !unit.endsWith('s')) fail(expression, `use "${unit.replace(/s$/, '')}" for a value of 1 and the plural for more (rate(1 hour), rate(5 hours))`);
  return { kind: 'rate', periodMs: value * (UNITS[unit.replace(/s$/, '')] as number) };
}

/** The values a cron field's list, ranges and steps name, within [low, high]. */
function values(expression: string, field: string, text: string, low: number, high: number, names: readonly string[] = [], offset = 0): Set<number> {
  const number = (part: string): number => {
    const named = names.indexOf(part.toUpperCase());
    const value = named >= 0 ? named + offset : /^\d+$/.test(part) ? Number(part) : NaN;
    if (!(value >= low && value <= high)) fail(expression, `${field} takes ${low}-${high}${names.length > 0 ? ` or ${names[0]}-${names[names.length - 1]}` : ''}, not "${part}"`);
    return value;
  };
  const result = new Set<number>();
  for (const item of text.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) && Number(stepText) > 0 ? Number(stepText) : fail(expression, `${field} has a bad step "${item}"`);
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [low, high];
    else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [from, to] = [number(a), number(b)];
    } else {
      from = number(range);
      to = stepText === undefined ? from : high;
    }
    if (from > to) fail(expression, `${field} has a range that runs backwards: "${item}"`);
    for (let value = from; value <= to; value += step) result.add(value);
  }
  return result;
}

const daysInMonth = (date: Date): number => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();

function dayOfMonth(expression: string, text: string): (date: Date) => boolean {
  if (text === 'L') return (date) => date.getUTCDate() === daysInMonth(date);
  const weekday = /^(\d{1,2})W$/.exec(text);
  if (weekday !== null) {
    const target = Number(weekday[1]);
    if (target < 1 || target > 31) fail(expression, `day-of-month takes 1-31 before W, not ${target}`);
    // The weekday nearest the given day, within the month.
    return (date) => {
      const last = daysInMonth(date);
      const day = Math.min(target, last);
      const weekdayOf = (dayNumber: number) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), dayNumber)).getUTCDay();
      let nearest = day;
      if (weekdayOf(day) === 6) nearest = day === 1 ? 3 : day - 1;
      else if (weekdayOf(day) === 0) nearest = day === last ? day - 2 : day + 1;
      return date.getUTCDate() === nearest;
    };
  }
  const days = values(expression, 'day-of-month', text, 1, 31);
  return (date) => days.has(date.getUTCDate());
}

function dayOfWeek(expression: string, text: string): (date: Date) => boolean {
  const nth = /^(\w+)#([1-5])$/.exec(text);
  if (nth !== null) {
    const [day] = [...values(expression, 'day-of-week', nth[1] as string, 1, 7, WEEKDAYS, 1)];
    const which = Number(nth[2]);
    return (date) => date.getUTCDay() + 1 === day && Math.ceil(date.getUTCDate() / 7) === which;
  }
  const last = /^(\w*)L$/.exec(text);
  if (last !== null) {
    // "L" alone is the last day of the week (Saturday); "5L" the last Thursday of the month.
    const [day] = last[1] === '' ? [7] : [...values(expression, 'day-of-week', last[1] as string, 1, 7, WEEKDAYS, 1)];
    return (date) => date.getUTCDay() + 1 === day && (last[1] === '' || date.getUTCDate() + 7 > daysInMonth(date));
  }
  const days = values(expression, 'day-of-week', text, 1, 7, WEEKDAYS, 1);
  return (date) => days.has(date.getUTCDay() + 1);
}

function parseCron(expression: string, body: string): ScheduleExpression {
  const parts = body.split(' ');
  if (parts.length !== 6) return fail(expression, 'a cron expression has six fields: minutes hours day-of-month month day-of-week year');
  const [minutes = '', hours = '', monthDay = '', month = '', weekDay = '', year = ''] = parts;
  if ((monthDay === '?') === (weekDay === '?')) fail(expression, 'exactly one of day-of-month and day-of-week must be "?" (you cannot give both)');
  return {
    kind: 'cron',
    fields: {
      minutes: values(expression, 'minutes', minutes, 0, 59),
      hours: values(expression, 'hours', hours, 0, 23),
      months: values(expression, 'month', month, 1, 12, MONTHS, 1),
      years: values(expression, 'year', year, 1970, 2199),
      day: monthDay === '?' ? { of: 'week', matches: dayOfWeek(expression, weekDay) } : { of: 'month', matches: dayOfMonth(expression, monthDay) },
    },
  };
}

export function parseScheduleExpression(expression: string): ScheduleExpression {
  const match = /^(rate|cron|at)\((.*)\)$/.exec(expression.trim());
  if (match === null) return fail(expression, 'use rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)');
  const [, kind, body = ''] = match;
  if (kind === 'rate') return parseRate(expression, body);
  if (kind === 'cron') return parseCron(expression, body);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(body) || Number.isNaN(Date.parse(`${body}Z`))) return fail(expression, 'write at(yyyy-mm-ddThh:mm:ss)');
  return { kind: 'at', at: Date.parse(`${body}Z`) };
}

/**
 * The first run strictly after `after` (epoch ms), or undefined when there is none; rate
 * schedules count their periods from `origin` (the start date, or when the schedule began).
 */
export function nextRun(schedule: ScheduleExpression, after: number, origin: number): number | undefined {
  if (schedule.kind === 'at') return schedule.at > after ? schedule.at : undefined;
  if (schedule.kind === 'rate') return after < origin ? origin : origin + (Math.floor((after - origin) / schedule.periodMs) + 1) * schedule.periodMs;
  const { fields } = schedule;
  // Day by day (at most the years the field allows), then the hours and minutes of a matching day.
  const start = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  for (let day = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()); ; day += 86_400_000) {
    const date = new Date(day);
    if (date.getUTCFullYear() > 2199) return undefined;
    if (!fields.years.has(date.getUTCFullYear()) || !fields.months.has(date.getUTCMonth() + 1) || !fields.day.matches(date)) continue;
    for (const hour of [...fields.hours].sort((a, b) => a - b)) {
      for (const minute of [...fields.minutes].sort((a, b) => a - b)) {
        const time = day + hour * 3_600_000 + minute * 60_000;
        if (time > after) return time;
      }
    }
  }
}
