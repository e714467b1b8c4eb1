import { alertBurstDrill } from '../../verify/drills/alert-burst';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(120_000);

it('sends one alert per cooldown for a burst of 1,000 breaching readings, and the history lists them', async () => {
  const result = await runPassingDrill(alertBurstDrill);
  expect(result.checks.find((entry) => entry.name === 'one alert per cooldown')?.detail).toMatch(/^3 notices \(breach, reminder, reminder\)/);
});
