/**
 * EventBridge Scheduler schedules in the twin, each behaviour pinned to the AWS
 * documentation it follows:
 * - expressions: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 *   (and https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html for
 *   the singular/plural unit of rate expressions);
 * - context attributes: https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html
 * - Scheduler invokes Lambda asynchronously (https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html),
 *   and Lambda retries a failed asynchronous invocation twice, after one and two minutes
 *   (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 */
import type { InvocationOutcome, LocalFunction } from '../../../local/lambda-runtime';
import { nextRun, parseScheduleExpression, ScheduleExpressionError } from '../../../local/twin/schedule-expressions';
import { scheduledInput, scheduleSpec, startSchedules, type ScheduleClock } from '../../../local/twin/schedules';
import type { StackResource } from '../../../local/twin/stack';

const at = (iso: string) => Date.parse(iso);
const next = (expression: string, after: string) => {
  const time = nextRun(parseScheduleExpression(expression), at(after), at(after));
  return time === undefined ? undefined : new Date(time).toISOString();
};

describe('rate expressions (schedule-types.html, "Rate-based schedules")', () => {
  it('take a positive whole number and minute(s), hour(s) or day(s), singular for 1', () => {
    expect(parseScheduleExpression('rate(1 minute)')).toEqual({ kind: 'rate', periodMs: 60_000 });
    expect(parseScheduleExpression('rate(5 minutes)')).toEqual({ kind: 'rate', periodMs: 300_000 });
    expect(parseScheduleExpression('rate(2 hours)')).toEqual({ kind: 'rate', periodMs: 7_200_000 });
    expect(parseScheduleExpression('rate(1 day)')).toEqual({ kind: 'rate', periodMs: 86_400_000 });
    for (const bad of ['rate(1 hours)', 'rate(5 hour)', 'rate(0 minutes)', 'rate(1.5 minutes)', 'rate(10 seconds)', 'rate(5)', 'every(5 minutes)']) {
      expect(() => parseScheduleExpression(bad)).toThrow(ScheduleExpressionError);
    }
  });

  it('run at the start date (at once without one), then once a period', () => {
    const rate = parseScheduleExpression('rate(5 minutes)');
    const origin = at('2024-05-01T10:00:00Z');
    expect(nextRun(rate, origin - 1, origin)).toBe(origin);
    expect(nextRun(rate, origin, origin)).toBe(origin + 300_000);
    expect(nextRun(rate, origin + 299_999, origin)).toBe(origin + 300_000);
  });
});

describe('cron expressions (schedule-types.html, "Cron-based schedules")', () => {
  it('have six fields and exactly one "?" day field', () => {
    expect(() => parseScheduleExpression('cron(0 12 * * *)')).toThrow(/six fields/);
    expect(() => parseScheduleExpression('cron(0 12 * * * *)')).toThrow(/exactly one of day-of-month and day-of-week must be "\?"/);
    expect(() => parseScheduleExpression('cron(0 12 ? * ? *)')).toThrow(/exactly one/);
    expect(() => parseScheduleExpression('cron(60 12 * * ? *)')).toThrow(/minutes takes 0-59/);
    expect(() => parseScheduleExpression('cron(0 12 ? * 8 *)')).toThrow(/day-of-week takes 1-7 or SUN-SAT/);
    expect(() => parseScheduleExpression('cron(0 12 * * ? 1969)')).toThrow(/year takes 1970-2199/);
  });

  it('follow AWS\'s examples: every day at 10:15, every 10 minutes on weekdays, the first of the month', () => {
    expect(next('cron(15 10 * * ? *)', '2024-05-01T10:15:00Z')).toBe('2024-05-02T10:15:00.000Z');
    // 1 is Sunday: MON-FRI is 2-6; Saturday 4 May 2024 moves to Monday.
    expect(next('cron(0/10 * ? * MON-FRI *)', '2024-05-03T23:55:00Z')).toBe('2024-05-06T00:00:00.000Z');
    expect(next('cron(0/10 * ? * 2-6 *)', '2024-05-01T10:01:00Z')).toBe('2024-05-01T10:10:00.000Z');
    expect(next('cron(0 8 1 * ? *)', '2024-05-01T08:00:00Z')).toBe('2024-06-01T08:00:00.000Z');
    expect(next('cron(0 18 ? * MON-FRI *)', '2024-05-01T18:00:00Z')).toBe('2024-05-02T18:00:00.000Z');
  });

  it('take L, W and # in the day fields', () => {
    expect(next('cron(0 0 L * ? *)', '2024-02-01T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z');
    // The weekday nearest the 15th: Saturday 15 June 2024 gives Friday the 14th.
    expect(next('cron(0 9 15W * ? *)', '2024-06-01T00:00:00Z')).toBe('2024-06-14T09:00:00.000Z');
    // The last Friday (6L) and the second Tuesday (3#2) of May 2024.
    expect(next('cron(15 10 ? * 6L *)', '2024-05-01T00:00:00Z')).toBe('2024-05-31T10:15:00.000Z');
    expect(next('cron(0 12 ? * 3#2 *)', '2024-05-01T00:00:00Z')).toBe('2024-05-14T12:00:00.000Z');
  });

  it('stop at the last year they allow', () => {
    expect(next('cron(0 0 1 1 ? 2024)', '2024-01-01T00:00:00Z')).toBeUndefined();
  });
});

describe('at expressions (schedule-types.html, "One-time schedules")', () => {
  it('run once, at the time given', () => {
    expect(next('at(2024-05-01T12:00:00)', '2024-05-01T11:00:00Z')).toBe('2024-05-01T12:00:00.000Z');
    expect(next('at(2024-05-01T12:00:00)', '2024-05-01T12:00:00Z')).toBeUndefined();
    expect(() => parseScheduleExpression('at(tomorrow)')).toThrow(ScheduleExpressionError);
  });
});

/** A schedule resource as the stack holds it, its function given by ARN. */
const schedule = (config: Record<string, unknown>): StackResource => ({
  mode: 'managed',
  type: 'aws_scheduler_schedule',
  name: 'check',
  address: 'aws_scheduler_schedule.check',
  id: 'check',
  config: { name: 'check', flexible_time_window: { mode: 'OFF' }, target: { arn: FUNCTION_ARN, role_arn: 'arn:aws:iam::0:role/r' }, ...config },
});
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-2:000000000000:function:check';
const SCHEDULE_ARN = 'arn:aws:scheduler:eu-west-2:000000000000:schedule/default/check';
const stackOf = (resources: StackResource[]) => ({ resources: (type: string) => resources.filter((found) => found.type === type), attribute: () => SCHEDULE_ARN });

describe('a schedule resource', () => {
  it('refuses what the twin does not run: another time zone, a target that is not a function, input that is not JSON', () => {
    expect(() => scheduleSpec(stackOf([]), schedule({ schedule_expression: 'rate(1 minute)', schedule_expression_timezone: 'Europe/London' }))).toThrow(/UTC only/);
    expect(() => scheduleSpec(stackOf([]), schedule({ schedule_expression: 'rate(1 minute)', target: { arn: 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage' } }))).toThrow(/only Lambda function targets/);
    expect(() => scheduleSpec(stackOf([]), schedule({ schedule_expression: 'rate(1 minute)', target: { arn: FUNCTION_ARN, input: '{' } }))).toThrow(/well-formed JSON/);
    expect(() => scheduleSpec(stackOf([]), schedule({ schedule_expression: 'rate(1 hours)' }))).toThrow(/rate\(1 hour\)/);
  });

  it('fills in the context attributes of its input', () => {
    const spec = scheduleSpec(stackOf([]), schedule({ schedule_expression: 'rate(1 minute)', target: { arn: FUNCTION_ARN, input: '{"t":"<aws.scheduler.scheduled-time>","n":"<aws.scheduler.attempt-number>","a":"<aws.scheduler.schedule-arn>","id":"<aws.scheduler.execution-id>"}' } }));
    expect(scheduledInput(spec, at('2022-03-22T18:59:43.512Z'), 2)).toEqual({ t: '2022-03-22T18:59:43Z', n: '2', a: SCHEDULE_ARN, id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(scheduledInput({ arn: SCHEDULE_ARN }, 0, 1)).toEqual({});
  });
});

/** Timers driven by the test: `advance` runs whatever falls due, in order. */
function fakeClock(start: number) {
  let now = start;
  let nextId = 0;
  const timers = new Map<number, { due: number; run: () => void }>();
  const clock: ScheduleClock = {
    now: () => now,
    setTimeout: (run, ms) => {
      const id = ++nextId;
      timers.set(id, { due: now + ms, run });
      return id as unknown as { unref?(): void };
    },
    clearTimeout: (id) => void timers.delete(id as number),
  };
  async function advance(ms: number) {
    const end = now + ms;
    for (;;) {
      const due = [...timers.entries()].filter(([, timer]) => timer.due <= end).sort((a, b) => a[1].due - b[1].due)[0];
      if (due === undefined) break;
      timers.delete(due[0]);
      now = due[1].due;
      due[1].run();
      // Let the invocation's promise settle before the next timer.
      await new Promise((resolve) => setImmediate(resolve));
    }
    now = end;
  }
  return { clock, advance };
}

function recordingFunction(outcomes: InvocationOutcome[] = []) {
  const events: unknown[] = [];
  const fn: LocalFunction = { name: 'check', arn: FUNCTION_ARN, invoke: async (event) => (events.push(event), outcomes.shift() ?? { ok: true, response: null }) };
  return { fn, events };
}

describe('running schedules', () => {
  const START = at('2024-05-01T10:00:00Z');

  it('invokes a rate schedule at once, then every period, until its end date', async () => {
    const { clock, advance } = fakeClock(START);
    const { fn, events } = recordingFunction();
    const running = startSchedules({
      stack: stackOf([schedule({ schedule_expression: 'rate(1 minute)', end_date: '2024-05-01T10:03:00Z', target: { arn: FUNCTION_ARN, input: '{"t":"<aws.scheduler.scheduled-time>"}' } })]),
      functions: new Map([[FUNCTION_ARN, fn]]),
      log: () => undefined,
      clock,
    });
    await advance(10 * 60_000);
    expect(events).toEqual([{ t: '2024-05-01T10:00:00Z' }, { t: '2024-05-01T10:01:00Z' }, { t: '2024-05-01T10:02:00Z' }]);
    expect(running.stats()).toEqual({ check: { runs: 3, failures: 0, lastRunAt: at('2024-05-01T10:02:00Z') } });
    await running.stop();
  });

  it('retries a failed run as Lambda retries an asynchronous invocation: twice, after one minute and then two', async () => {
    const { clock, advance } = fakeClock(START);
    const failure: InvocationOutcome = { ok: false, errorType: 'Error', errorMessage: 'boom' };
    const { fn, events } = recordingFunction([failure, failure, failure]);
    const lines: string[] = [];
    const running = startSchedules({ stack: stackOf([schedule({ schedule_expression: 'cron(0 12 * * ? *)', target: { arn: FUNCTION_ARN, input: '{"n":"<aws.scheduler.attempt-number>"}' } })]), functions: new Map([[FUNCTION_ARN, fn]]), log: (line) => lines.push(line), clock });
    await advance(2 * 3_600_000 + 5 * 60_000);
    expect(events).toEqual([{ n: '1' }, { n: '2' }, { n: '3' }]);
    expect(running.stats().check).toMatchObject({ runs: 1, failures: 3 });
    expect(lines.at(-1)).toMatch(/no retries left/);
    await running.stop();
  });

  it('does not run a DISABLED schedule, and runs every one at the interval given instead of its expression', async () => {
    const { clock, advance } = fakeClock(START);
    const { fn, events } = recordingFunction();
    const running = startSchedules({
      stack: stackOf([schedule({ schedule_expression: 'rate(1 day)' }), { ...schedule({ schedule_expression: 'rate(1 minute)', state: 'DISABLED' }), address: 'aws_scheduler_schedule.off', name: 'off' }]),
      functions: new Map([[FUNCTION_ARN, fn]]),
      intervalSeconds: 5,
      log: () => undefined,
      clock,
    });
    await advance(12_000);
    expect(events).toHaveLength(3);
    expect(Object.keys(running.stats())).toEqual(['check']);
    await running.stop();
  });

  it('names a target that is not a function of the stack', () => {
    expect(() => startSchedules({ stack: stackOf([schedule({ schedule_expression: 'rate(1 minute)' })]), functions: new Map(), log: () => undefined })).toThrow(/which is not a function of the stack/);
  });
});
