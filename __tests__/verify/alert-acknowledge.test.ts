import { alertAcknowledgeDrill } from '../../verify/drills/alert-acknowledge';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(120_000);

it('sends no reminder for an acknowledged alert while one left alone gets its cooldown reminders', async () => {
  const result = await runPassingDrill(alertAcknowledgeDrill);
  expect(result.checks.find((entry) => entry.name === 'the alert left alone gets its cooldown reminders')?.detail).toMatch(/^4 reminders expected/);
  expect(result.readings).toEqual({ sent: 124, stored: 124, failureQueue: 0 });
});
