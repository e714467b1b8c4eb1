import { alertFlappingDrill } from '../../verify/drills/alert-flapping';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(120_000);

it('sends one breach and one recovery for a series flapping around its maximum, with a waiting period and hysteresis', async () => {
  const result = await runPassingDrill(alertFlappingDrill);
  expect(result.checks.find((entry) => entry.name === 'the rule fires once for the breach that lasted and recovers once')?.detail).toMatch(/^2 notices \(breach, recovery\); without a waiting period and hysteresis the same readings would send \d+$/);
});
