/**
 * An embedded DynamoDB (dynalite) for integration tests: one in-memory server on a free
 * port per test file, with the tables of handlers/contract.ts already created.
 *
 *   const db = await startDynalite();
 *   afterAll(() => db.stop());
 *   // db.document for assertions, db.env for handler settings, db.endpoint for clients
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient, type AttributeDefinition, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_NAMES, HANDLER_ENV, TABLES, type TableDefinition } from '../../handlers/contract';
import { exactDocumentClient } from '../../handlers/stored-number';

// dynalite ships no type declarations; it returns a plain Node HTTP server.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export type TableKey = keyof typeof TABLES;

/** The table names the harness creates, one per entry of `TABLES`. */
export const TABLE_NAMES: Record<TableKey, string> = {
  things: DEFAULT_NAMES.thingsTable,
  thresholds: DEFAULT_NAMES.thresholdsTable,
  alerts: DEFAULT_NAMES.alertsTable,
  series: DEFAULT_NAMES.seriesTable,
  rollups: DEFAULT_NAMES.rollupsTable,
};

export interface DynaliteHarness {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly tables: Record<TableKey, string>;
  /** A low-level client bound to the emulator (fake credentials, us-east-1). */
  readonly client: DynamoDBClient;
  /** A document client over `client`, for arranging and asserting items. */
  readonly document: DynamoDBDocumentClient;
  /**
   * A document client that reads numbers exactly (NumberValue), as the handlers' and the
   * web app's do (handlers/stored-number.ts). Over a client of its own: document clients
   * built from one client share its configuration.
   */
  readonly exact: DynamoDBDocumentClient;
  /**
   * Environment a handler needs to reach the emulator and its tables:
   * `AWS_ENDPOINT_URL_DYNAMODB`, region, fake credentials and the `*_TABLE` variables.
   */
  readonly env: Record<string, string>;
  /** Every item of a table (small test tables only). */
  scan(table: TableKey): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

function createTableInput(name: string, table: TableDefinition) {
  const keys: KeySchemaElement[] = [{ AttributeName: table.hashKey, KeyType: 'HASH' }];
  const attributes: AttributeDefinition[] = [{ AttributeName: table.hashKey, AttributeType: 'S' }];
  if (table.rangeKey !== undefined) {
    keys.push({ AttributeName: table.rangeKey, KeyType: 'RANGE' });
    attributes.push({ AttributeName: table.rangeKey, AttributeType: 'S' });
  }
  const indexes = (table.indexes ?? []).map((index) => {
    for (const attribute of [index.hashKey, index.rangeKey]) {
      if (attribute !== undefined && !attributes.some((known) => known.AttributeName === attribute)) attributes.push({ AttributeName: attribute, AttributeType: 'S' });
    }
    return {
      IndexName: index.name,
      KeySchema: [{ AttributeName: index.hashKey, KeyType: 'HASH' as const }, ...(index.rangeKey === undefined ? [] : [{ AttributeName: index.rangeKey, KeyType: 'RANGE' as const }])],
      Projection: { ProjectionType: 'ALL' as const },
    };
  });
  // dynalite has no UpdateTimeToLive, so the TTL attribute is stored but never acted on.
  return { TableName: name, KeySchema: keys, AttributeDefinitions: attributes, BillingMode: 'PAY_PER_REQUEST' as const, ...(indexes.length === 0 ? {} : { GlobalSecondaryIndexes: indexes }) };
}

export async function startDynalite(): Promise<DynaliteHarness> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const region = 'us-east-1';
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const client = new DynamoDBClient({ endpoint, region, credentials });
  const document = DynamoDBDocumentClient.from(client);
  const exactClient = new DynamoDBClient({ endpoint, region, credentials });
  const exact = exactDocumentClient(exactClient);

  for (const key of Object.keys(TABLES) as TableKey[]) {
    await client.send(new CreateTableCommand(createTableInput(TABLE_NAMES[key], TABLES[key])));
  }

  return {
    endpoint,
    tables: TABLE_NAMES,
    client,
    document,
    exact,
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      [HANDLER_ENV.thingsTable]: TABLE_NAMES.things,
      [HANDLER_ENV.thresholdsTable]: TABLE_NAMES.thresholds,
      [HANDLER_ENV.alertsTable]: TABLE_NAMES.alerts,
      [HANDLER_ENV.seriesTable]: TABLE_NAMES.series,
      [HANDLER_ENV.rollupsTable]: TABLE_NAMES.rollups,
    },
    async scan(table) {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await document.send(new ScanCommand({ TableName: TABLE_NAMES[table], ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
      return items;
    },
    async stop() {
      client.destroy();
      exactClient.destroy();
      // Keep-alive sockets would otherwise hold dynalite's graceful close open.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
