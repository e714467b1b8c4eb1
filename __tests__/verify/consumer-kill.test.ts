import { consumerKillDrill } from '../../verify/drills/consumer-kill';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(240_000);

it('loses and repeats no reading or alert when the consumers are killed mid-batch and restarted', async () => {
  const result = await runPassingDrill(consumerKillDrill);
  expect(result.readings).toEqual({ sent: 6_000, stored: 6_000, failureQueue: 0 });
});
