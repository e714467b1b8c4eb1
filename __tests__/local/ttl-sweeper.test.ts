import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startTtlSweeper } from '../../local/ttl-sweeper';
import { startDynalite, type DynaliteHarness } from '../handlers/dynalite-harness';

describe('local TTL sweeper (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html)', () => {
  let db: DynaliteHarness;
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(() => db.stop());

  it('deletes expired items of the tables with a TTL attribute, and nothing else', async () => {
    const now = Date.UTC(2024, 0, 1);
    const nowSeconds = now / 1000;
    const put = (table: string, item: Record<string, unknown>) => db.document.send(new PutCommand({ TableName: table, Item: item }));
    await put(db.tables.things, { ThingID: 'a/t', Timestamp: '1', Value: 1, ExpiresAt: nowSeconds - 10 });
    await put(db.tables.things, { ThingID: 'a/t', Timestamp: '2', Value: 2, ExpiresAt: nowSeconds + 10 });
    await put(db.tables.things, { ThingID: 'a/t', Timestamp: '3', Value: 3 });
    await put(db.tables.alerts, { ThingID: 'a/t', Timestamp: '1', Kind: 'breach', ExpiresAt: nowSeconds - 1 });
    // The thresholds table has no TTL: an ExpiresAt there means nothing.
    await put(db.tables.thresholds, { ThingID: 'a/t', MinThreshold: 1, ExpiresAt: nowSeconds - 100 });
    for (let index = 0; index < 60; index += 1) await put(db.tables.things, { ThingID: 'b/t', Timestamp: String(index), Value: index, ExpiresAt: nowSeconds - 1 });

    // As the tables' resources give them: the readings and alerts tables enable TTL on ExpiresAt.
    const tables = [
      { name: db.tables.things, hashKey: 'ThingID', rangeKey: 'Timestamp', ttlAttribute: 'ExpiresAt' },
      { name: db.tables.alerts, hashKey: 'ThingID', rangeKey: 'Timestamp', ttlAttribute: 'ExpiresAt' },
      { name: db.tables.thresholds, hashKey: 'ThingID' },
    ];
    const sweeper = startTtlSweeper({ client: db.client, tables, log: () => undefined, now: () => now });
    try {
      expect(await sweeper.sweep()).toBe(62);
    } finally {
      await sweeper.stop();
    }
    const left = async (table: string) => ((await db.document.send(new ScanCommand({ TableName: table }))).Items ?? []).map((item) => `${item.ThingID}@${item.Timestamp ?? ''}`).sort();
    expect(await left(db.tables.things)).toEqual(['a/t@2', 'a/t@3']);
    expect(await left(db.tables.alerts)).toEqual([]);
    expect(await left(db.tables.thresholds)).toEqual(['a/t@']);
  });
});
