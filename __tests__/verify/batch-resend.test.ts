import { batchResendDrill } from '../../verify/drills/batch-resend';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(240_000);

it('stores each reading once, keeps the rollups exact and alerts once when every batch is sent again whole', async () => {
  const result = await runPassingDrill(batchResendDrill);
  expect(result.readings).toEqual({ sent: 4_000, stored: 4_000, failureQueue: 0 });
  const packing = result.checks.find((entry) => entry.name.startsWith('batches were packed'));
  expect(Number(packing?.detail.split(': ')[1]?.split(' ')[0])).toBeGreaterThanOrEqual(50);
});
