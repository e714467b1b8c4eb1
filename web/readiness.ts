/**
 * Readiness (`GET /healthz`): can the app read every table it uses right now? One cheap
 * read per table under a short deadline, the answer reused for a second so that a flood
 * of health checks costs one round of reads, and a failure told in words an operator can
 * act on: which table, what is wrong, what to check. Liveness (`/livez`) is separate and
 * never touches DynamoDB (see app.ts).
 */
import { HANDLER_ENV } from '../handlers/contract';
import type { HealthResponse, TableHealth } from './api-types';
import { cacheFor } from './cache';
import type { ReadingsRepository, TableCheck, TableRole } from './repository';
import { classifyStoreError, unreachableReason } from './store-errors';

export interface ReadinessOptions {
  /** How long the tables have to answer before they count as unreachable. @default 1500 */
  readonly timeoutMs?: number;
  /** How long an answer is reused (0: every check reads). @default 1 */
  readonly cacheSeconds?: number;
}

export const DEFAULT_READINESS = { timeoutMs: 1_500, cacheSeconds: 1 } as const;

export interface Readiness {
  readonly ready: boolean;
  readonly body: HealthResponse;
  /** The failed reads, for the log only: errors may name hosts, accounts or keys. */
  readonly failures: readonly { readonly table: string; readonly error: unknown }[];
}

const TABLES: Readonly<Record<TableRole, { readonly holds: string; readonly variable: string }>> = {
  things: { holds: 'readings', variable: HANDLER_ENV.thingsTable },
  thresholds: { holds: 'thresholds', variable: HANDLER_ENV.thresholdsTable },
  alerts: { holds: 'alert history', variable: HANDLER_ENV.alertsTable },
  series: { holds: 'series catalogue', variable: HANDLER_ENV.seriesTable },
  rollups: { holds: 'rollups', variable: HANDLER_ENV.rollupsTable },
};

function tableHealth(check: TableCheck, timeoutMs: number): TableHealth {
  const { holds, variable } = TABLES[check.role];
  if (!('error' in check)) return { table: check.table, holds, status: 'ok' };
  const status = classifyStoreError(check.error);
  const problem = {
    unreachable: `cannot be reached: ${unreachableReason(check.error, timeoutMs)}`,
    busy: 'DynamoDB is throttling reads of it: retry in a moment, or raise its read capacity',
    'missing-table': `does not exist in this account and region: check ${variable} and AWS_REGION`,
    'access-denied': "DynamoDB refused the app's credentials or permissions for it: check the task role's policy",
    failed: 'reading it failed unexpectedly: the app log has the details',
  }[status];
  return { table: check.table, holds, status, problem };
}

/** One sentence for the whole answer: the store as a whole when nothing answers, else each table at fault. */
function summary(tables: readonly TableHealth[]): string {
  const failed = tables.filter((table) => table.status !== 'ok');
  if (failed.length === tables.length && failed.every((table) => table.status === 'unreachable')) {
    const reasons = [...new Set(failed.map((table) => (table.problem ?? '').replace(/^cannot be reached: /, '')))];
    return `The data store (DynamoDB) cannot be reached: ${reasons.join('; ')}. The app answers again by itself once it is back; nothing needs restarting.`;
  }
  return `${failed.length} of ${tables.length} tables cannot be read: ${failed.map((table) => `${table.table} (${table.holds}) ${table.problem}`).join('; ')}.`;
}

export function readinessCheck(repository: ReadingsRepository, options: ReadinessOptions = {}, now: () => number = Date.now): () => Promise<Readiness> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_READINESS.timeoutMs;
  const cacheSeconds = options.cacheSeconds ?? DEFAULT_READINESS.cacheSeconds;

  async function check(): Promise<Readiness> {
    let checks: TableCheck[];
    try {
      checks = await repository.checkTables(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      // The contract says this cannot happen; if it does, say so rather than claim the tables are fine.
      const body: HealthResponse = { status: 'unavailable', message: 'The readiness check itself failed; the app log has the details.', tables: [] };
      return { ready: false, body, failures: [{ table: '(readiness check)', error }] };
    }
    const tables = checks.map((entry) => tableHealth(entry, timeoutMs));
    const failures = checks.flatMap((entry) => ('error' in entry ? [{ table: entry.table, error: entry.error }] : []));
    if (failures.length === 0) return { ready: true, body: { status: 'ok', tables }, failures };
    return { ready: false, body: { status: 'unavailable', message: summary(tables), tables }, failures };
  }

  return cacheFor(cacheSeconds, check, now);
}
