import { webTableOutageDrill } from '../../verify/drills/web-table-outage';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(180_000);

it('answers 503 clearly while the web app cannot reach its tables, keeps /livez and the dashboard up, and recovers without a restart', async () => {
  const result = await runPassingDrill(webTableOutageDrill);
  expect(result.readings).toEqual({ sent: 200, stored: 200, failureQueue: 0 });
  expect(result.checks.map((entry) => entry.name)).toEqual(
    expect.arrayContaining([
      '/livez answers 200 throughout',
      '/healthz answers 503 saying the data store cannot be reached, naming each table',
      'every data route answers 503 "unavailable" with retry-after and a readable sentence',
      '/healthz is ready again once the table is back',
      'the API answers again with exactly the data it showed before, nothing lost',
    ]),
  );
});
