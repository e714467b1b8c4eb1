/**
 * DynamoDB's Time to Live for the local platform: dynalite stores the TTL attribute but
 * never deletes expired items, so this sweeps every table whose resource enables TTL, by
 * the attribute the resource names, now and then, as DynamoDB does in the background.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
 */
import { type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { batchDeleteAll, TOOL_RETRY } from '../handlers/batch-write';
import type { TableSpec } from './twin/data-stores';

export interface TtlSweeperOptions {
  readonly client: DynamoDBClient;
  /** The tables; those without a TTL attribute are left alone. */
  readonly tables: readonly Pick<TableSpec, 'name' | 'hashKey' | 'rangeKey' | 'ttlAttribute'>[];
  readonly log: (line: string) => void;
  /** @default 10 minutes */
  readonly intervalMs?: number;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

export interface TtlSweeper {
  /** One sweep of every TTL table; resolves to the number of items deleted. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startTtlSweeper(options: TtlSweeperOptions): TtlSweeper {
  const document = DynamoDBDocumentClient.from(options.client);
  const now = options.now ?? Date.now;
  let running: Promise<number> | undefined;

  async function sweepTable(table: TtlSweeperOptions['tables'][number], ttlAttribute: string): Promise<number> {
    const keyAttributes = table.rangeKey === undefined ? [table.hashKey] : [table.hashKey, table.rangeKey];
    let deleted = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await document.send(
        new ScanCommand({
          TableName: table.name,
          FilterExpression: '#ttl < :now',
          ProjectionExpression: keyAttributes.map((_, index) => `#k${index}`).join(', '),
          ExpressionAttributeNames: { '#ttl': ttlAttribute, ...Object.fromEntries(keyAttributes.map((name, index) => [`#k${index}`, name])) },
          ExpressionAttributeValues: { ':now': Math.floor(now() / 1000) },
          ExclusiveStartKey: start,
        }),
      );
      const expired = page.Items ?? [];
      await batchDeleteAll(document, table.name, expired, TOOL_RETRY);
      deleted += expired.length;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return deleted;
  }

  async function sweepAll(): Promise<number> {
    let deleted = 0;
    for (const table of options.tables) if (table.ttlAttribute !== undefined) deleted += await sweepTable(table, table.ttlAttribute);
    return deleted;
  }

  const sweep = (): Promise<number> => (running ??= sweepAll().finally(() => (running = undefined)));

  const timer = setInterval(() => {
    sweep()
      .then((deleted) => deleted > 0 && options.log(`[ttl] deleted ${deleted} expired item(s)`))
      .catch((error: unknown) => options.log(`[ttl] sweep failed: ${(error as Error).message}`));
  }, options.intervalMs ?? 10 * 60_000);
  timer.unref();

  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
