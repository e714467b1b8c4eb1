/**
 * The local platform's addresses and names (SPEC §4), apart from the platform itself so
 * the tools can point at it without loading it.
 */
import * as path from 'node:path';
import { DEFAULT_NAMES } from '../handlers/contract';
import type { TableNames } from './resources';

/** SPEC §4's ports; 0 for any of them picks a free port. */
export const DEFAULT_PORTS = { ingest: 4010, web: 5000, dynamodb: 8000, kinesis: 4567, messaging: 4566 } as const;
export type LocalPorts = { -readonly [K in keyof typeof DEFAULT_PORTS]: number };

export const LOCAL_DEFAULTS = {
  host: '127.0.0.1',
  apiKey: 'local-dev-key',
  region: 'eu-west-2',
  dataDir: path.resolve(__dirname, '..', '.local-data'),
  /** Only warnings and errors of the handlers reach the console unless asked for more. */
  handlerLogLevel: 'WARN',
  alertTopic: DEFAULT_NAMES.alertTopic,
  failureQueue: DEFAULT_NAMES.failureQueue,
} as const;

/** The account id of every local ARN and queue URL. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** Credentials the emulators accept; they are never checked, but the SDK wants some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** The stacks' default names, used as they are (no prefix). */
export const LOCAL_TABLES: TableNames = {
  things: DEFAULT_NAMES.thingsTable,
  thresholds: DEFAULT_NAMES.thresholdsTable,
  alerts: DEFAULT_NAMES.alertsTable,
  series: DEFAULT_NAMES.seriesTable,
};
