import { type AttributeValue, DynamoDBClient, CreateTableCommand, PutItemCommand, GetItemCommand, BatchWriteItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, CreateStreamCommand, PutRecordsCommand, GetShardIteratorCommand, GetRecordsCommand, DescribeStreamCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LOCAL_CREDENTIALS } from '../../local/defaults';
import { startDynamoEmulator, startKinesisEmulator, type RunningEmulator } from '../../local/emulators';
import {
  BILLING_RULES,
  dynamoItemBytes,
  dynamoReadUnits,
  dynamoWriteUnits,
  firehoseBilledBytes,
  kinesisOnDemandBytes,
  kinesisPutPayloadUnits,
  lambdaGbSeconds,
  UsageMeter,
} from '../../local/usage-meter';

const KB = 1024;

describe('billing rules', () => {
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
  test('DynamoDB writes: 1 KB per write unit, rounded up per item, at least one; transactional writes double (read-write-operations.html#write-operation-consumption)', () => {
    expect(dynamoWriteUnits(100)).toBe(1);
    expect(dynamoWriteUnits(KB)).toBe(1);
    expect(dynamoWriteUnits(KB + 1)).toBe(2);
    expect(dynamoWriteUnits(3 * KB)).toBe(3);
    expect(dynamoWriteUnits(3 * KB, { transactional: true })).toBe(6);
    expect(dynamoWriteUnits(0)).toBe(1);
  });

  test('DynamoDB reads: 4 KB per read unit, half for eventually consistent, double in a transaction (read-write-operations.html#read-operation-consumption: an 8 KB item takes 2, 1 or 4)', () => {
    expect(dynamoReadUnits(8 * KB, 'strong')).toBe(2);
    expect(dynamoReadUnits(8 * KB, 'eventual')).toBe(1);
    expect(dynamoReadUnits(8 * KB, 'transactional')).toBe(4);
    expect(dynamoReadUnits(4 * KB + 1, 'strong')).toBe(2);
    expect(dynamoReadUnits(10, 'eventual')).toBe(0.5);
  });

  test('DynamoDB item size: UTF-8 names and values, numbers by significant digits, 3 bytes per list or map plus 1 per element (CapacityUnitCalculations.html)', () => {
    expect(BILLING_RULES.dynamoListOrMapOverhead.source).toBe('https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html');
    expect(dynamoItemBytes({ id: { S: 'abc' } })).toBe(2 + 3);
    // é is two bytes in UTF-8.
    expect(dynamoItemBytes({ né: { S: 'café' } })).toBe(3 + 5);
    // 12345 has five significant digits: 3 bytes + 1; leading and trailing zeroes are trimmed.
    expect(dynamoItemBytes({ n: { N: '123.45' } })).toBe(1 + 4);
    expect(dynamoItemBytes({ n: { N: '000100' } })).toBe(1 + 2);
    expect(dynamoItemBytes({ b: { BOOL: true }, z: { NULL: true } })).toBe(2 + 2);
    expect(dynamoItemBytes({ bin: { B: Buffer.from('hello') } })).toBe(3 + 5);
    expect(dynamoItemBytes({ l: { L: [{ S: 'ab' }, { N: '7' }] } })).toBe(1 + 3 + (1 + 2) + (1 + 2));
    expect(dynamoItemBytes({ m: { M: { k: { S: 'v' } } } })).toBe(1 + 3 + (1 + 1 + 1));
    expect(dynamoItemBytes({ l: { L: [] } })).toBe(1 + 3);
  });

  // https://aws.amazon.com/kinesis/data-streams/pricing/
  test('Kinesis PUT payload units are 25 KB chunks (pricing page: 5 KB is one, 45 KB two, 1 MB forty)', () => {
    expect(kinesisPutPayloadUnits(5 * KB)).toBe(1);
    expect(kinesisPutPayloadUnits(45 * KB)).toBe(2);
    expect(kinesisPutPayloadUnits(1000 * KB)).toBe(40);
    expect(kinesisPutPayloadUnits(100)).toBe(1);
  });

  test('Kinesis on-demand bills each record written rounded up to 1 KB (pricing page: 4.5 KB counts as 5 KB)', () => {
    expect(kinesisOnDemandBytes(4.5 * KB)).toBe(5 * KB);
    expect(kinesisOnDemandBytes(100)).toBe(KB);
  });

  // https://aws.amazon.com/firehose/pricing/
  test('Firehose bills each record rounded up to 5 KB (pricing page: 3 KB bills as 5 KB, 12 KB as 15 KB)', () => {
    expect(firehoseBilledBytes(3 * KB)).toBe(5 * KB);
    expect(firehoseBilledBytes(12 * KB)).toBe(15 * KB);
    expect(firehoseBilledBytes(100)).toBe(5 * KB);
  });

  // https://aws.amazon.com/lambda/pricing/
  test('Lambda GB-seconds: configured memory times duration rounded up to 1 ms (pricing page)', () => {
    expect(lambdaGbSeconds(512, 100.2)).toBeCloseTo(0.5 * 0.101, 12);
    expect(lambdaGbSeconds(1024, 1000)).toBe(1);
  });
});

describe('UsageMeter counts', () => {
  test('records, units and invocations add up by kind and by name', () => {
    const meter = new UsageMeter();
    meter.apiRequest();
    meter.kinesisRecordsPut([100, 30 * KB]);
    meter.firehoseRecord(100);
    meter.s3Put(2_000);
    meter.lambdaInvocation('store', 512, 10);
    meter.lambdaInvocation('store', 512, 30);
    meter.dynamoUnits('things', { write: 2 });
    meter.dynamoUnits('things', { read: 0.5 });
    const usage = meter.usage();
    expect(usage.api.requests).toBe(1);
    expect(usage.kinesis).toEqual({ records: 2, bytes: 100 + 30 * KB, putPayloadUnits: 3, onDemandBytes: KB + 30 * KB, bytesRead: 0 });
    expect(usage.firehose).toEqual({ records: 1, bytes: 100, billedBytes: 5 * KB });
    expect(usage.s3).toEqual({ objects: 1, bytes: 2_000 });
    expect(usage.lambda.store).toEqual({ memoryMiB: 512, invocations: 2, durationMs: 40, gbSeconds: 0.5 * 0.04 });
    expect(usage.dynamodb.things).toEqual({ writeUnits: 2, readUnits: 0.5, requests: 2, itemsPut: 0 });
    meter.reset();
    expect(meter.usage().api.requests).toBe(0);
  });
});

describe('the DynamoDB emulator, metered', () => {
  const meter = new UsageMeter();
  let emulator: RunningEmulator;
  let client: DynamoDBClient;
  const table = 'metered';

  beforeAll(async () => {
    emulator = await startDynamoEmulator({ host: '127.0.0.1', port: 0, tap: meter.dynamoTap });
    client = new DynamoDBClient({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS, endpoint: emulator.endpoint });
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
  });
  afterAll(async () => {
    client.destroy();
    await emulator.stop();
  });
  beforeEach(() => meter.reset());

  const item = (sk: string, bytes: number): Record<string, AttributeValue> => {
    const base = { pk: { S: 'p' }, sk: { S: sk }, pad: { S: '' } };
    return { ...base, pad: { S: 'x'.repeat(bytes - dynamoItemBytes(base)) } };
  };
  const units = () => meter.usage().dynamodb[table] ?? { writeUnits: 0, readUnits: 0, requests: 0, itemsPut: 0 };

  test('a put consumes its item size in 1 KB units, and an overwrite the larger of the old and new items (read-write-operations.html#write-operation-consumption: PutItem and UpdateItem count the larger item)', async () => {
    const large = item('a', 1536);
    expect(dynamoItemBytes(large)).toBe(1536);
    const answer = await client.send(new PutItemCommand({ TableName: table, Item: large }));
    // The caller did not ask for consumed capacity: the answer does not carry it.
    expect(answer.ConsumedCapacity).toBeUndefined();
    expect(units().writeUnits).toBe(2);
    await client.send(new PutItemCommand({ TableName: table, Item: item('a', 200) }));
    expect(units().writeUnits).toBe(4);
    await client.send(new PutItemCommand({ TableName: table, Item: item('b', 200) }));
    expect(units().writeUnits).toBe(5);
  });

  test('a caller that asks for consumed capacity still gets it', async () => {
    const answer = await client.send(new PutItemCommand({ TableName: table, Item: item('c', 3000), ReturnConsumedCapacity: 'TOTAL' }));
    expect(answer.ConsumedCapacity?.CapacityUnits).toBe(3);
    expect(units().writeUnits).toBe(3);
  });

  test('BatchWriteItem consumes per item written', async () => {
    await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: ['d1', 'd2', 'd3'].map((sk) => ({ PutRequest: { Item: item(sk, 1100) } })) } }));
    expect(units().writeUnits).toBe(6);
    // Counted as items too, to tell how many readings an item holds.
    expect(units().itemsPut).toBe(3);
  });

  test('GetItem consumes the item in 4 KB units, half when eventually consistent (read-write-operations.html#read-operation-consumption)', async () => {
    await client.send(new PutItemCommand({ TableName: table, Item: item('e', 5 * KB) }));
    meter.reset();
    await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'p' }, sk: { S: 'e' } }, ConsistentRead: true }));
    expect(units().readUnits).toBe(2);
    await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'p' }, sk: { S: 'e' } } }));
    expect(units().readUnits).toBe(3);
  });

  test('Query consumes the total size of the items it reads, rounded up to 4 KB once per call (read-write-operations.html#read-operation-consumption)', async () => {
    await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: ['q1', 'q2', 'q3', 'q4', 'q5'].map((sk) => ({ PutRequest: { Item: { ...item(sk, 1000), pk: { S: 'query' } } } })) } }));
    meter.reset();
    await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'query' } } }));
    // Five items of about 1,000 bytes are about 5,000 bytes: two 4 KB units, halved.
    expect(units().readUnits).toBe(1);
  });

  test('a conditional write whose condition fails still consumes a write unit (read-write-operations.html#write-operation-consumption)', async () => {
    await expect(
      client.send(new UpdateItemCommand({ TableName: table, Key: { pk: { S: 'p' }, sk: { S: 'none' } }, UpdateExpression: 'SET v = :v', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':v': { N: '1' } } })),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(units().writeUnits).toBe(BILLING_RULES.dynamoConditionFailed.value);
  });
});

describe('the Kinesis emulator, metered', () => {
  const meter = new UsageMeter();
  let emulator: RunningEmulator;
  let client: KinesisClient;

  beforeAll(async () => {
    emulator = await startKinesisEmulator({ host: '127.0.0.1', port: 0, tap: meter.kinesisTap });
    client = new KinesisClient({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS, endpoint: emulator.endpoint, requestHandler: new NodeHttpHandler() });
    await client.send(new CreateStreamCommand({ StreamName: 'metered', ShardCount: 1 }));
  });
  afterAll(async () => {
    client.destroy();
    await emulator.stop();
  });

  test('counts each accepted record as data plus partition key, in PUT payload units, and the bytes read back', async () => {
    const shardId = (await client.send(new DescribeStreamCommand({ StreamName: 'metered' }))).StreamDescription?.Shards?.[0]?.ShardId;
    const iterator = (await client.send(new GetShardIteratorCommand({ StreamName: 'metered', ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    meter.reset();
    await client.send(
      new PutRecordsCommand({
        StreamName: 'metered',
        Records: [
          { PartitionKey: 'key', Data: Buffer.alloc(97) },
          { PartitionKey: 'key', Data: Buffer.alloc(30 * KB) },
        ],
      }),
    );
    expect(meter.usage().kinesis).toMatchObject({ records: 2, bytes: 100 + 30 * KB + 3, putPayloadUnits: 3 });
    await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
    expect(meter.usage().kinesis.bytesRead).toBe(100 + 30 * KB + 3);
  });
});
