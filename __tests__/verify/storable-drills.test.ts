/**
 * The drills of hostile inputs against platforms of their own, as `npm run verify` runs
 * them: each must pass, and its figures must account for every record it put on the stream.
 */
import { exactValuesDrill } from '../../verify/drills/exact-values';
import { failureQueueOnceDrill } from '../../verify/drills/failure-queue-once';
import { futureReadingsDrill } from '../../verify/drills/future-readings';
import { localServersDrill } from '../../verify/drills/local-servers';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(120_000);

// Each drill has a platform of its own. The local-servers drill is mostly ten seconds of holding
// slow connections open until the servers cut them off, so it runs beside two others; the
// failure-queue-once drill counts the retries of a failing batch as they happen, so it runs alone.
it.concurrent('exact values: every digit stored and answered, the tiny breach alerted, the unstorable records queued', async () => {
  const result = await runPassingDrill(exactValuesDrill);
  expect(result.readings).toEqual({ sent: 12, stored: 9, failureQueue: 3 });
});

it.concurrent('future readings: queued with their own reason, alerts and latest values follow real time', async () => {
  const result = await runPassingDrill(futureReadingsDrill);
  expect(result.readings).toEqual({ sent: 7, stored: 4, failureQueue: 3 });
});

it('failure queue once: every bad record queued exactly once across the retries of its batch', async () => {
  const result = await runPassingDrill(failureQueueOnceDrill);
  expect(result.readings).toEqual({ sent: 440, stored: 400, failureQueue: 40 });
  expect(result.checks.find((entry) => entry.name.startsWith('the store consumer was handed'))?.detail).toMatch(/^[2-5] retries/);
});

it.concurrent('local servers: other origins refused, slow clients cut off, 405 with Allow, probes not cached', async () => {
  const result = await runPassingDrill(localServersDrill);
  expect(result.checks).toHaveLength(5);
});
