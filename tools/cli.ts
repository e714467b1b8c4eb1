/**
 * What every tool's command line shares: one place that turns the usual failures
 * (platform not running, wrong table, bad flag) into a sentence and an exit code.
 */
import { CommanderError } from 'commander';
import { TargetError } from './target';

/** Exit code for "could not run" (bad flags, unreachable target), as opposed to 1 for "ran and failed". */
export const EXIT_USAGE = 2;

/** A request the tool cannot carry out as given (contradictory flags, malformed ids). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A person-readable sentence for an error a tool could not handle itself. */
export function formatError(error: unknown): string {
  const failure = error as Error & { code?: string; cause?: { code?: string }; $metadata?: unknown };
  const code = failure.code ?? failure.cause?.code;
  if (error instanceof TargetError || error instanceof UsageError) return failure.message;
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(failure.message ?? '')) {
    return `could not connect (${failure.message}). Is the local platform running? Start it with \`npm start\`, or point the tool at a deployment with --from-outputs or --api-url.`;
  }
  if (failure.name === 'ResourceNotFoundException') return `${failure.message}: check the table names (--things-table ...) and the region (--region).`;
  if (failure.name === 'CredentialsProviderError' || failure.name === 'UnrecognizedClientException') {
    return `no usable AWS credentials (${failure.message}): set AWS_PROFILE or the AWS_* variables to reach the deployment's tables.`;
  }
  return failure.message ?? String(error);
}

/** Runs a tool's async main; anything it throws is printed as one clear line and sets a non-zero exit code. */
export function runCli(main: () => Promise<unknown>, describe: (error: unknown) => string = formatError): void {
  main().catch((error: unknown) => {
    // Commander has printed its own parse errors already.
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    console.error(`error: ${describe(error)}`);
    process.exitCode = error instanceof TargetError || error instanceof UsageError ? EXIT_USAGE : 1;
  });
}
