/**
 * The local platform's addresses and defaults, apart from the platform itself so the
 * tools can point at it without loading it. Names of tables, stream, topics and queues
 * are not here: they come from the synthesized stack.
 */
import * as path from 'node:path';

/** The ports the local platform listens on unless told otherwise; 0 for any of them picks a free port. */
export const DEFAULT_PORTS = { ingest: 4010, web: 5000, dynamodb: 8000, kinesis: 4567, messaging: 4566 } as const;
export type LocalPorts = { -readonly [K in keyof typeof DEFAULT_PORTS]: number };

export const LOCAL_DEFAULTS = {
  host: '127.0.0.1',
  apiKey: 'local-dev-key',
  region: 'eu-west-2',
  dataDir: path.resolve(__dirname, '..', '.local-data'),
  /** Only warnings and errors of the handlers reach the console unless asked for more. */
  handlerLogLevel: 'WARN',
} as const;

/** The account id of every local ARN and queue URL. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** Credentials the emulators accept; they are never checked, but the SDK wants some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** The platform's tables, by role, as the pipeline stack's outputs name them. */
export type TableKey = 'things' | 'thresholds' | 'alerts' | 'series' | 'rollups';
export type TableNames = Readonly<Record<TableKey, string>>;
