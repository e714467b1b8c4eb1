import { alertNoDataDrill } from '../../verify/drills/alert-no-data';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(240_000);

it('raises one no-data alert and one recovery per silent series, across a kill of the platform process', async () => {
  const result = await runPassingDrill(alertNoDataDrill);
  expect(result.checks.filter((entry) => entry.name.endsWith('exactly one no-data alert and one recovery'))).toHaveLength(2);
  // Every reading acknowledged before the kill is stored after it.
  expect(result.readings?.stored).toBe(result.readings?.sent);
  expect(result.readings?.failureQueue).toBe(0);
});
