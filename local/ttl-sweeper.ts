/**
 * DynamoDB's Time to Live for the local platform: dynalite stores the TTL attribute but
 * never deletes expired items, so this sweeps the tables the contract gives a TTL
 * attribute, now and then, as DynamoDB does in the background. Only started when hot
 * retention is configured (otherwise no item carries the attribute).
 */
import { type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../handlers/contract';
import type { TableKey, TableNames } from './resources';

export interface TtlSweeperOptions {
  readonly client: DynamoDBClient;
  readonly tables: TableNames;
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

/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_LIMIT = 25;

export function startTtlSweeper(options: TtlSweeperOptions): TtlSweeper {
  const document = DynamoDBDocumentClient.from(options.client);
  const now = options.now ?? Date.now;
  let running: Promise<number> | undefined;

  async function sweepTable(key: TableKey, ttlAttribute: string): Promise<number> {
    const definition = TABLES[key];
    const keyAttributes = 'rangeKey' in definition ? [definition.hashKey, definition.rangeKey] : [definition.hashKey];
    let deleted = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await document.send(
        new ScanCommand({
          TableName: options.tables[key],
          FilterExpression: '#ttl < :now',
          ProjectionExpression: keyAttributes.map((_, index) => `#k${index}`).join(', '),
          ExpressionAttributeNames: { '#ttl': ttlAttribute, ...Object.fromEntries(keyAttributes.map((name, index) => [`#k${index}`, name])) },
          ExpressionAttributeValues: { ':now': Math.floor(now() / 1000) },
          ExclusiveStartKey: start,
        }),
      );
      const expired = page.Items ?? [];
      for (let at = 0; at < expired.length; at += BATCH_WRITE_LIMIT) {
        let requests = expired.slice(at, at + BATCH_WRITE_LIMIT).map((item) => ({ DeleteRequest: { Key: item } }));
        while (requests.length > 0) {
          const result = await document.send(new BatchWriteCommand({ RequestItems: { [options.tables[key]]: requests } }));
          requests = (result.UnprocessedItems?.[options.tables[key]] ?? []) as typeof requests;
        }
      }
      deleted += expired.length;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return deleted;
  }

  async function sweepAll(): Promise<number> {
    let deleted = 0;
    for (const key of Object.keys(TABLES) as TableKey[]) {
      const definition = TABLES[key];
      if ('ttlAttribute' in definition) deleted += await sweepTable(key, definition.ttlAttribute);
    }
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
