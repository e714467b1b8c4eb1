/**
 * Creates the platform's tables and stream in the emulators, from the same definitions
 * the stacks use (handlers/contract.ts), unless they exist already (persistent data).
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, ListShardsCommand, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { TABLES, type TableDefinition } from '../handlers/contract';

export type TableKey = keyof typeof TABLES;
export type TableNames = Readonly<Record<TableKey, string>>;

/** On-demand table with the contract's string keys. */
export function createTableInput(name: string, table: TableDefinition): CreateTableCommandInput {
  const keys: KeySchemaElement[] = [{ AttributeName: table.hashKey, KeyType: 'HASH' }];
  const attributes: AttributeDefinition[] = [{ AttributeName: table.hashKey, AttributeType: 'S' }];
  if (table.rangeKey !== undefined) {
    keys.push({ AttributeName: table.rangeKey, KeyType: 'RANGE' });
    attributes.push({ AttributeName: table.rangeKey, AttributeType: 'S' });
  }
  return { TableName: name, KeySchema: keys, AttributeDefinitions: attributes, BillingMode: 'PAY_PER_REQUEST' };
}

/** Creates every missing table; returns the names it created. */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start !== undefined);

  const created: string[] = [];
  for (const key of Object.keys(TABLES) as TableKey[]) {
    if (existing.has(names[key])) continue;
    await client.send(new CreateTableCommand(createTableInput(names[key], TABLES[key])));
    created.push(names[key]);
  }
  return created;
}

export interface StreamInfo {
  readonly arn: string;
  /** Shard ids, oldest first. */
  readonly shardIds: string[];
  readonly created: boolean;
}

/** Creates the stream with `shardCount` shards unless it exists, waits until it is active, and lists its shards. */
export async function ensureStream(client: KinesisClient, name: string, shardCount: number): Promise<StreamInfo> {
  let created = false;
  try {
    await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
    created = true;
  }
  for (;;) {
    const { StreamDescriptionSummary: summary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (summary?.StreamStatus === 'ACTIVE') {
      const shardIds: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(nextToken === undefined ? new ListShardsCommand({ StreamName: name }) : new ListShardsCommand({ NextToken: nextToken }));
        for (const shard of page.Shards ?? []) if (shard.ShardId !== undefined) shardIds.push(shard.ShardId);
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
      return { arn: summary.StreamARN ?? name, shardIds, created };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
