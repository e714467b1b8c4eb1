/**
 * The stack's EventBridge Scheduler schedules (`aws_scheduler_schedule`), run locally:
 * each invokes its target function on its schedule expression (schedule-expressions.ts),
 * between its start and end dates, while ENABLED, with its input and the context
 * attributes AWS fills in. As on AWS, Scheduler invokes a Lambda function asynchronously:
 * a function error is retried by Lambda twice, one minute and then two minutes later, and
 * a run still going when the next is due does not delay it.
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 *
 * Choices where AWS does not say, or where a local run differs:
 * - AWS invokes within 60 seconds of the scheduled time; locally at the time itself. A
 *   FLEXIBLE time window is run at its start.
 * - A rate schedule without a start date starts with the platform (AWS: when the schedule
 *   was created), and runs missed while the platform was stopped are not made up.
 * - Without `input`, the function gets `{}` (AWS sends a "default notification" it does
 *   not describe).
 * - `intervalSeconds` (npm start --schedule-interval-seconds) replaces every expression
 *   with a run every that many seconds, to see minute-long schedules act sooner.
 */
import { randomBytes } from 'node:crypto';
import type { InvocationOutcome, LocalFunction } from '../lambda-runtime';
import type { LoadedStack } from './load-stack';
import { nextRun, parseScheduleExpression, ScheduleExpressionError, type ScheduleExpression } from './schedule-expressions';
import { TwinResolutionError, type StackResource } from './stack';

/** Lambda's retries of an asynchronous invocation that failed: after one minute, then after two more. */
export const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000] as const;

export interface ScheduleSpec {
  readonly address: string;
  readonly name: string;
  readonly arn: string;
  readonly expression: ScheduleExpression;
  readonly enabled: boolean;
  readonly startsAt?: number;
  readonly endsAt?: number;
  /** The target function's ARN. */
  readonly targetArn: string;
  /** The input as configured, context keywords not yet filled in. */
  readonly input?: string;
}

/** The spec of one `aws_scheduler_schedule`, or a TwinResolutionError naming what the twin does not run. */
export function scheduleSpec(stack: Pick<LoadedStack, 'attribute'>, resource: StackResource): ScheduleSpec {
  const config = resource.config as {
    name?: string;
    schedule_expression: string;
    schedule_expression_timezone?: string;
    state?: string;
    start_date?: string;
    end_date?: string;
    target: { arn: string; input?: string };
  };
  const refuse = (attribute: string, why: string): never => {
    throw new TwinResolutionError(`${resource.address}: ${why}`, resource.address, attribute);
  };
  let expression: ScheduleExpression;
  try {
    expression = parseScheduleExpression(config.schedule_expression);
  } catch (error) {
    if (!(error instanceof ScheduleExpressionError)) throw error;
    return refuse('schedule_expression', error.message);
  }
  const zone = config.schedule_expression_timezone ?? 'UTC';
  if (zone !== 'UTC' && zone !== 'Etc/UTC') refuse('schedule_expression_timezone', `the local twin evaluates schedules in UTC only, not ${zone}`);
  if (!/^arn:[^:]+:lambda:/.test(config.target.arn)) refuse('target.arn', 'only Lambda function targets are run locally');
  if (config.target.input !== undefined) {
    try {
      JSON.parse(config.target.input);
    } catch {
      refuse('target.input', 'a Lambda target\'s input must be well-formed JSON (AWS refuses anything else)');
    }
  }
  const date = (attribute: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const parsed = Date.parse(text);
    return Number.isNaN(parsed) ? refuse(attribute, `${attribute} ${JSON.stringify(text)} is not a date`) : parsed;
  };
  return {
    address: resource.address,
    name: config.name ?? resource.address,
    arn: String(stack.attribute(resource.address, 'arn')),
    expression,
    enabled: (config.state ?? 'ENABLED') === 'ENABLED',
    ...(config.start_date === undefined ? {} : { startsAt: date('start_date', config.start_date) as number }),
    ...(config.end_date === undefined ? {} : { endsAt: date('end_date', config.end_date) as number }),
    targetArn: config.target.arn,
    ...(config.target.input === undefined ? {} : { input: config.target.input }),
  };
}

/** The input with the context attributes filled in (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html). */
export function scheduledInput(spec: Pick<ScheduleSpec, 'arn' | 'input'>, scheduledAt: number, attempt: number): unknown {
  if (spec.input === undefined) return {};
  const filled = spec.input
    .replaceAll('<aws.scheduler.schedule-arn>', spec.arn)
    .replaceAll('<aws.scheduler.scheduled-time>', new Date(scheduledAt).toISOString().replace(/\.\d{3}Z$/, 'Z'))
    .replaceAll('<aws.scheduler.execution-id>', randomBytes(8).toString('hex'))
    .replaceAll('<aws.scheduler.attempt-number>', String(attempt));
  return JSON.parse(filled) as unknown;
}

export interface ScheduleStats {
  /** Runs started (each a first attempt). */
  runs: number;
  /** Attempts that failed (the function errored or timed out). */
  failures: number;
  /** Epoch ms of the last run started. */
  lastRunAt?: number;
}

/** Timers, replaceable in tests. */
export interface ScheduleClock {
  now(): number;
  setTimeout(run: () => void, ms: number): { unref?(): void };
  clearTimeout(timer: unknown): void;
}

const realClock: ScheduleClock = { now: () => Date.now(), setTimeout: (run, ms) => setTimeout(run, ms), clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout) };

export interface SchedulesOptions {
  readonly stack: Pick<LoadedStack, 'resources' | 'attribute'>;
  /** The stack's functions by ARN. */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  /** Every schedule runs every this many seconds instead of its expression. @default the expressions */
  readonly intervalSeconds?: number;
  readonly log: (line: string) => void;
  /** @default the system clock and timers */
  readonly clock?: ScheduleClock;
}

export interface RunningSchedules {
  /** By schedule name. */
  stats(): Readonly<Record<string, ScheduleStats>>;
  /** Cancels what is due; resolves once runs in flight have finished. */
  stop(): Promise<void>;
}

export function startSchedules(options: SchedulesOptions): RunningSchedules {
  const clock = options.clock ?? realClock;
  const stats: Record<string, ScheduleStats> = {};
  const timers = new Set<unknown>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;

  const later = (ms: number, run: () => void) => {
    const timer = clock.setTimeout(() => {
      timers.delete(timer);
      if (!stopped) run();
    }, Math.max(0, ms));
    timer.unref?.();
    timers.add(timer);
  };

  for (const resource of options.stack.resources('aws_scheduler_schedule')) {
    const spec = scheduleSpec(options.stack, resource);
    const target = options.functions.get(spec.targetArn);
    if (target === undefined) throw new TwinResolutionError(`${resource.address} invokes ${spec.targetArn}, which is not a function of the stack`, resource.address, 'target.arn');
    if (!spec.enabled) continue;
    const entry: ScheduleStats = (stats[spec.name] = { runs: 0, failures: 0 });
    const expression: ScheduleExpression = options.intervalSeconds === undefined ? spec.expression : { kind: 'rate', periodMs: options.intervalSeconds * 1000 };
    const origin = spec.startsAt ?? clock.now();

    /** One attempt; a failed one is tried again as Lambda retries asynchronous invocations. */
    const attempt = (scheduledAt: number, number: number): void => {
      const run = target.invoke(scheduledInput(spec, scheduledAt, number)).then((outcome: InvocationOutcome) => {
        if (outcome.ok) return;
        entry.failures += 1;
        const retryIn = ASYNC_RETRY_DELAYS_MS[number - 1];
        options.log(`[schedule] ${spec.name}: ${target.name} failed (${outcome.errorType}: ${outcome.errorMessage})${retryIn === undefined ? '; no retries left' : `; retried in ${retryIn / 1000} s`}`);
        if (retryIn !== undefined) later(retryIn, () => attempt(scheduledAt, number + 1));
      });
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    };

    const plan = (after: number): void => {
      const at = nextRun(expression, after, origin);
      if (at === undefined || (spec.endsAt !== undefined && at >= spec.endsAt)) return;
      later(at - clock.now(), () => {
        entry.runs += 1;
        entry.lastRunAt = clock.now();
        attempt(at, 1);
        plan(at);
      });
    };
    // A rate schedule's first run is at its start; "after" just before it includes it.
    plan(expression.kind === 'rate' ? Math.max(origin, clock.now()) - 1 : clock.now());
  }

  return {
    stats: () => Object.fromEntries(Object.entries(stats).map(([name, entry]) => [name, { ...entry }])),
    async stop() {
      stopped = true;
      for (const timer of timers) clock.clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}
