/**
 * The stack's DynamoDB tables and Kinesis streams, created in the emulators from their
 * resources (names, key schemas, secondary indexes, TTL attribute, shard count or
 * on-demand mode) unless they exist already from an earlier run.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ListTablesCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
  type Projection,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, ListShardsCommand, ResourceNotFoundException, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { LoadedStack } from './load-stack';
import { TwinResolutionError, type StackResource } from './stack';

/**
 * Shards of an on-demand stream locally: AWS starts a new on-demand stream with 4 MB/s of
 * write capacity, which is four shards' worth (1 MB/s each), and adds shards with traffic,
 * which a local stream never needs.
 * https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html
 */
export const ON_DEMAND_LOCAL_SHARDS = 4;

export interface TableSpec {
  readonly address: string;
  readonly name: string;
  readonly hashKey: string;
  readonly rangeKey?: string;
  /** The attribute DynamoDB deletes expired items by, when TTL is enabled. */
  readonly ttlAttribute?: string;
  readonly input: CreateTableCommandInput;
}

interface IndexBlock {
  readonly name: string;
  readonly hash_key?: string;
  readonly range_key?: string;
  readonly projection_type: Projection['ProjectionType'];
  readonly non_key_attributes?: readonly string[];
}

const keySchema = (hash: string, range: string | undefined): KeySchemaElement[] => [
  { AttributeName: hash, KeyType: 'HASH' },
  ...(range === undefined ? [] : [{ AttributeName: range, KeyType: 'RANGE' as const }]),
];
const projection = (index: IndexBlock): Projection => ({
  ProjectionType: index.projection_type,
  ...(index.non_key_attributes === undefined ? {} : { NonKeyAttributes: [...index.non_key_attributes] }),
});

/** A table's spec from its `aws_dynamodb_table` resource. */
export function tableSpec(resource: StackResource): TableSpec {
  const config = resource.config as {
    name: string;
    hash_key: string;
    range_key?: string;
    attribute?: readonly { name: string; type: AttributeDefinition['AttributeType'] }[];
    ttl?: { attribute_name?: string; enabled?: boolean };
    global_secondary_index?: readonly IndexBlock[];
    local_secondary_index?: readonly IndexBlock[];
  };
  const attributes = (config.attribute ?? []).map((attribute) => ({ AttributeName: attribute.name, AttributeType: attribute.type }));
  for (const key of [config.hash_key, config.range_key]) {
    if (key !== undefined && !attributes.some((attribute) => attribute.AttributeName === key)) {
      throw new TwinResolutionError(`${resource.address}: the key attribute ${key} has no attribute block giving its type`, resource.address, 'attribute');
    }
  }
  const global = (config.global_secondary_index ?? []).map((index) => ({ IndexName: index.name, KeySchema: keySchema(index.hash_key ?? '', index.range_key), Projection: projection(index) }));
  const local = (config.local_secondary_index ?? []).map((index) => ({ IndexName: index.name, KeySchema: keySchema(config.hash_key, index.range_key), Projection: projection(index) }));
  const ttl = config.ttl?.enabled === true ? config.ttl.attribute_name : undefined;
  return {
    address: resource.address,
    name: config.name,
    hashKey: config.hash_key,
    ...(config.range_key === undefined ? {} : { rangeKey: config.range_key }),
    ...(ttl === undefined ? {} : { ttlAttribute: ttl }),
    input: {
      TableName: config.name,
      KeySchema: keySchema(config.hash_key, config.range_key),
      AttributeDefinitions: attributes,
      BillingMode: 'PAY_PER_REQUEST',
      ...(global.length === 0 ? {} : { GlobalSecondaryIndexes: global }),
      ...(local.length === 0 ? {} : { LocalSecondaryIndexes: local }),
    },
  };
}

export const tableSpecs = (stack: Pick<LoadedStack, 'resources'>): TableSpec[] => stack.resources('aws_dynamodb_table').map(tableSpec);

/**
 * Creates each table that does not exist yet. A table kept from an earlier run with
 * another key schema cannot be changed in place (DynamoDB cannot either): it is named in
 * `notes` so the user can start with --clean.
 */
export async function ensureTables(client: DynamoDBClient, specs: readonly TableSpec[]): Promise<{ created: string[]; notes: string[] }> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start !== undefined);

  const created: string[] = [];
  const notes: string[] = [];
  for (const spec of specs) {
    if (!existing.has(spec.name)) {
      await client.send(new CreateTableCommand(spec.input));
      created.push(spec.name);
      continue;
    }
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: spec.name }));
    const kept = JSON.stringify(table?.KeySchema ?? []);
    if (kept !== JSON.stringify(spec.input.KeySchema)) {
      notes.push(`table ${spec.name} kept from an earlier run has the key schema ${kept}, not the stack's ${JSON.stringify(spec.input.KeySchema)}; start with --clean to recreate it`);
    }
    // AWS adds an index to a table in place; the emulator (dynalite) cannot, so the kept table goes without it.
    const keptIndexes = new Set((table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    const missing = (spec.input.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).filter((name) => !keptIndexes.has(name));
    if (missing.length > 0) notes.push(`table ${spec.name} kept from an earlier run lacks the index ${missing.join(', ')} the stack declares, and the emulator cannot add one; start with --clean to recreate it`);
  }
  return { created, notes };
}

export interface StreamSpec {
  readonly address: string;
  readonly name: string;
  readonly shardCount: number;
  readonly onDemand: boolean;
}

export function streamSpec(resource: StackResource): StreamSpec {
  const config = resource.config as { name: string; shard_count?: number; stream_mode_details?: { stream_mode?: string } };
  const onDemand = config.stream_mode_details?.stream_mode === 'ON_DEMAND';
  const shardCount = onDemand ? ON_DEMAND_LOCAL_SHARDS : config.shard_count;
  if (shardCount === undefined) throw new TwinResolutionError(`${resource.address}: a provisioned stream needs shard_count`, resource.address, 'shard_count');
  return { address: resource.address, name: config.name, shardCount: Number(shardCount), onDemand };
}

export interface StreamInfo {
  readonly arn: string;
  /** Shard ids, oldest first. */
  readonly shardIds: string[];
  readonly created: boolean;
}

/** A stream of the stack as the emulator holds it, by the ARN the stack gives it. */
export type StreamsByArn = ReadonlyMap<string, { readonly name: string; readonly info: StreamInfo }>;

/** Creates every stream of the stack that does not exist yet; a kept one with another shard count is named in `log`. */
export async function ensureStreams(stack: Pick<LoadedStack, 'resources' | 'attribute'>, client: KinesisClient, log: (line: string) => void): Promise<StreamsByArn> {
  const streams = new Map<string, { name: string; info: StreamInfo }>();
  for (const resource of stack.resources('aws_kinesis_stream')) {
    const spec = streamSpec(resource);
    const info = await ensureStream(client, spec.name, spec.shardCount);
    if (info.shardIds.length !== spec.shardCount) log(`note: stream ${spec.name} kept from an earlier run has ${info.shardIds.length} shards, not the stack's ${spec.shardCount}; start with --clean to recreate it`);
    streams.set(String(stack.attribute(resource.address, 'arn')), { name: spec.name, info });
  }
  return streams;
}

/** The stream `address` reads, by its ARN. */
export function streamOf(streams: StreamsByArn, arn: string, address: string): { readonly name: string; readonly info: StreamInfo } {
  const stream = streams.get(arn);
  if (stream === undefined) throw new TwinResolutionError(`${address} reads ${arn}, which is not a Kinesis stream of the stack`, address);
  return stream;
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
