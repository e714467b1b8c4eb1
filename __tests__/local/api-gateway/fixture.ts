/**
 * The API Gateway twin on the synthesized pipeline stack (default configuration), with a
 * local Kinesis holding the stack's stream. Tests may edit the stack's JSON first, as a
 * person editing `cdk.tf.json` would.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { startApiGatewayTwin, type ApiGatewayTwinOptions } from '../../../local/api-gateway';
import { loadStack } from '../../../local/twin/load-stack';
import { synthesizeStacks } from '../../../local/twin/synth';
import { startKinesis, type KinesisHarness } from '../harness';

export const API_KEY = 'twin-test-key';

export type StackJson = { resource: Record<string, Record<string, Record<string, unknown>>> } & Record<string, unknown>;

/** The synthesized pipeline stack's JSON, a fresh copy per call. */
export async function pipelineStackJson(): Promise<StackJson> {
  const synth = await synthesizeStacks({ configuration: {} });
  return JSON.parse(readFileSync(synth.stackFile('pipeline'), 'utf8')) as StackJson;
}

/** The one resource of a type whose name ends with `suffix`. */
export function resourceOf(json: StackJson, type: string, suffix: string): Record<string, unknown> {
  const entries = Object.entries(json.resource[type] ?? {}).filter(([name]) => name.endsWith(suffix));
  if (entries.length !== 1) throw new Error(`expected one ${type} ending in ${suffix}, found ${entries.length}`);
  return (entries[0] as [string, Record<string, unknown>])[1];
}

export interface RunningTwin {
  readonly baseUrl: string;
  readonly kinesis: KinesisHarness;
  readonly log: string[];
  readonly accessLog: string[];
  /** Every record on the stream, all shards. */
  records(): Promise<{ key: string; data: string }[]>;
  /** Every record on the stream with the index of its shard (oldest shard first). */
  shardRecords(): Promise<{ shard: number; key: string; data: string }[]>;
  stop(): Promise<void>;
}

export async function startTwin(json: StackJson, options: Partial<ApiGatewayTwinOptions> = {}): Promise<RunningTwin> {
  const dir = mkdtempSync(path.join(tmpdir(), 'api-gateway-twin-'));
  const file = path.join(dir, 'cdk.tf.json');
  writeFileSync(file, JSON.stringify(json));
  const streamName = String(Object.values(json.resource.aws_kinesis_stream ?? {})[0]?.name);
  const kinesis = await startKinesis(streamName, 2);
  const log: string[] = [];
  const accessLog: string[] = [];
  const twin = await startApiGatewayTwin({
    stack: loadStack(file, { apiKeyValue: API_KEY }),
    host: '127.0.0.1',
    port: 0,
    kinesisEndpoint: kinesis.emulator.endpoint,
    region: 'eu-west-2',
    accountId: '000000000000',
    apiKeyValue: API_KEY,
    log: (line) => log.push(line),
    accessLog: (line) => accessLog.push(line),
    ...options,
  });
  async function shardRecords(): Promise<{ shard: number; key: string; data: string }[]> {
    const found: { shard: number; key: string; data: string }[] = [];
    for (const [shard, shardId] of kinesis.stream.shardIds.entries()) {
      const { ShardIterator } = await kinesis.client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
      const page = await kinesis.client.send(new GetRecordsCommand({ ShardIterator }));
      for (const record of page.Records ?? []) found.push({ shard, key: record.PartitionKey as string, data: Buffer.from(record.Data as Uint8Array).toString('utf8') });
    }
    return found;
  }
  return {
    baseUrl: twin.baseUrl,
    kinesis,
    log,
    accessLog,
    async records() {
      return (await shardRecords()).map(({ key, data }) => ({ key, data }));
    },
    shardRecords,
    async stop() {
      await twin.close();
      await kinesis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
