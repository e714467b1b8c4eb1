import { alertSilenceDrill } from '../../verify/drills/alert-silence';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(120_000);

it('sends nothing for a silenced prefix of series in its window and alerts again after it', async () => {
  const result = await runPassingDrill(alertSilenceDrill);
  expect(result.checks.find((entry) => entry.name === 'nothing sent for the silenced series in its window, while the other alerted')?.detail).toMatch(/^0 notices for things\/silence-drill\/a\/000, 2 for/);
});
