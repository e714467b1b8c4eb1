import { poisonRecordsDrill } from '../../verify/drills/poison-records';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(120_000);

it('stores every good reading, queues every poison record with its reason, and never stalls a shard', async () => {
  const result = await runPassingDrill(poisonRecordsDrill);
  expect(result.readings).toEqual({ sent: 1_060, stored: 1_000, failureQueue: 60 });
  expect(result.checks.map((entry) => entry.name)).toEqual(
    expect.arrayContaining(['every poison record is in the failure queue exactly once', 'each carries the right reason', 'no consumer stalled, retried or discarded']),
  );
});
