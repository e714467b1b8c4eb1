/**
 * What every tool's command line shares: one place that turns the usual failures
 * (platform not running, wrong table, bad flag) into a sentence and an exit code.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseReading } from '../handlers/reading';
import { ID_FIELD, TIMESTAMP_FIELD } from '../handlers/reading-patterns';
import { TargetError } from './target';

/** Exit code for "could not run" (bad flags, unreachable target), as opposed to 1 for "ran and failed". */
export const EXIT_USAGE = 2;

/** A request the tool cannot carry out as given (contradictory flags, malformed ids). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Option parser: any finite number (a threshold, a bound). */
export function finiteNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new InvalidArgumentError('a number such as 18 or -2.5');
  return value;
}

/** Option parser factory: a number above 0, at most `maximum` (a rate, a duration). */
export function positiveNumber(name: string, maximum: number) {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > maximum) throw new InvalidArgumentError(`${name} must be a number above 0, at most ${maximum}`);
    return value;
  };
}

/** Option parser factory: a whole number from 1 to `maximum` (a count, a batch size). */
export function wholeNumber(name: string, maximum: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < 1 || value > maximum) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${maximum}`);
    return value;
  };
}

/** Option parser: a generator seed, a whole number from 0 to 2^32 - 1. */
export function seedNumber(text: string): number {
  const value = Number(text);
  if (!/^\d{1,10}$/.test(text) || value > 0xffff_ffff) throw new InvalidArgumentError('a whole number from 0 to 4294967295');
  return value;
}

/** Why the ingest API would refuse `id` as a thing id (the reading contract's own words), or undefined. */
export function thingIdProblem(id: string): string | undefined {
  const parsed = parseReading({ [ID_FIELD]: id, [TIMESTAMP_FIELD]: 0, probe: 0 });
  return parsed.ok ? undefined : parsed.error.message;
}

/** Option parser for a period: whole seconds (the rule's own checks give the range). */
export function secondsOption(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new InvalidArgumentError('a whole number of seconds, such as 300');
  return Number(text);
}

/**
 * `--no-data-after <seconds>`: commander reads a long option starting with `--no-` as the
 * negation of another (`--data-after`), so it is marked as an ordinary option here.
 */
export function noDataAfterOption(description: string): Option {
  const option = new Option('--no-data-after <seconds>', description).argParser(secondsOption);
  option.negate = false;
  return option;
}

/**
 * Makes commander throw its parse errors (after printing them) instead of ending the
 * process with exit code 1, so `runCli` gives them the usage exit code. Call it once the
 * program has all its subcommands.
 */
export function throwParseErrors<T extends Command>(program: T): T {
  for (const command of [program, ...program.commands]) command.exitOverride();
  return program;
}

/** Errors that mean the tool could not reach or find its target. */
function targetProblem(error: unknown): 'connection' | 'table' | 'credentials' | undefined {
  const failure = error as Error & { code?: string; cause?: { code?: string } };
  const code = failure.code ?? failure.cause?.code;
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(failure.message ?? '')) return 'connection';
  if (failure.name === 'ResourceNotFoundException') return 'table';
  if (failure.name === 'CredentialsProviderError' || failure.name === 'UnrecognizedClientException') return 'credentials';
  return undefined;
}

/** A person-readable sentence for an error a tool could not handle itself. */
export function formatError(error: unknown): string {
  const failure = error as Error;
  if (error instanceof TargetError || error instanceof UsageError) return failure.message;
  switch (targetProblem(error)) {
    case 'connection':
      return `could not connect (${failure.message}). Is the local platform running? Start it with \`npm start\`, or point the tool at a deployment with --from-outputs or --api-url.`;
    case 'table':
      return `${failure.message}: check the table names (--things-table ...) and the region (--region).`;
    case 'credentials':
      return `no usable AWS credentials (${failure.message}): set AWS_PROFILE or the AWS_* variables to reach the deployment's tables.`;
    default:
      return failure.message ?? String(error);
  }
}

/** The exit code for an error: usage (bad flags, target not reachable or not found) or failure. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
  return error instanceof TargetError || error instanceof UsageError || targetProblem(error) !== undefined ? EXIT_USAGE : 1;
}

/** Runs a tool's async main; anything it throws is printed as one clear line and sets a non-zero exit code. */
export function runCli(main: () => Promise<unknown>, describe: (error: unknown) => string = formatError): void {
  main().catch((error: unknown) => {
    // Commander has printed its own parse errors (and help) already.
    if (!(error instanceof CommanderError)) console.error(`error: ${describe(error)}`);
    process.exitCode = exitCodeOf(error);
  });
}
