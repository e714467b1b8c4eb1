/**
 * Counting a minute against dynalite: what countedReadings reads (the items keyed by the
 * minute or later in its hour, and items keyed by their hour's start as written before)
 * and what it returns (every reading of the minute once, the later write winning).
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { countedReadings, type QuerySender } from '../../handlers/reading-segment';
import { Decimal } from '../../handlers/decimal';
import { startDynalite, type DynaliteHarness } from './dynalite-harness';
import { segmentItems } from './segment-fixture';

const SERIES = 'things/count/1/temperature';
const at = (minute: number, second: number) => `2026-12-01T12:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}.000000Z`;
const reading = (timestamp: string, text: string) => ({ timestamp, value: Decimal.parse(text) as Decimal });
const position = (sequence: string) => ({ shardId: 'shardId-000000000000', highest: sequence, lowest: sequence });

let db: DynaliteHarness;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(() => db.stop());

/** Counts the items each Query returns. */
function countingSender(): { send: QuerySender; items: () => number } {
  let items = 0;
  return {
    send: async (run) => {
      const page = await run();
      items += page.Items?.length ?? 0;
      return page;
    },
    items: () => items,
  };
}

test("a minute is counted from the items keyed by it or later in its hour, and from items keyed by the hour's start as written before", async () => {
  const written = [
    // Ten earlier minutes, one batch each: not read to count 12:29.
    ...Array.from({ length: 10 }, (_, minute) => segmentItems(SERIES, [reading(at(minute + 10, 5), '1')], position(String(100 + minute)))).flat(),
    // A batch over 12:28 to 12:30, keyed by 12:30: holds readings of 12:29.
    ...segmentItems(SERIES, [reading(at(28, 58), '2'), reading(at(29, 1), '3'), reading(at(30, 0), '4')], position('200')),
    // A later batch of 12:29 that rewrites 12:29:01.
    ...segmentItems(SERIES, [reading(at(29, 1), '30'), reading(at(29, 59), '5')], position('300')),
  ];
  // An item keyed by its hour's start (`#`), as segments were written before: it holds 12:29:30.
  const hourKeyed = { ThingID: SERIES, Timestamp: '2026-12-01T12:00:00.000000Z#1250#1250#shardId-000000000000#000', Readings: `+${(29 * 60 + 30) * 1_000_000}=6` };
  await db.exact.send(new BatchWriteCommand({ RequestItems: { [db.tables.things]: [...written, hourKeyed].map((Item) => ({ PutRequest: { Item } })) } }));

  const sender = countingSender();
  const readings = await countedReadings(db.exact, db.tables.things, { series: SERIES, from: at(29, 0), to: '2026-12-01T12:29:59.999999Z', consistentRead: true }, sender.send);
  expect(readings.map(({ timestamp, value }) => [timestamp, value.text])).toEqual([
    [at(29, 1), '30'],
    [at(29, 30), '6'],
    [at(29, 59), '5'],
  ]);
  // The batch keyed by 12:30, the one keyed by 12:29 and the hour-keyed item: none of the ten before.
  expect(sender.items()).toBe(3);

  // From the hour's start, the one range holds the hour-keyed item too: no second Query.
  const whole = countingSender();
  const hour = await countedReadings(db.exact, db.tables.things, { series: SERIES, from: at(0, 0), to: '2026-12-01T12:29:59.999999Z', consistentRead: true }, whole.send);
  expect(hour.map(({ timestamp }) => timestamp)).toEqual([...Array.from({ length: 10 }, (_, minute) => at(minute + 10, 5)), at(28, 58), at(29, 1), at(29, 30), at(29, 59)]);
  expect(whole.items()).toBe(13);
});
