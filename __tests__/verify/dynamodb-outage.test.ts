import { dynamodbOutageDrill } from '../../verify/drills/dynamodb-outage';
import { runPassingDrill } from './drill-harness';

jest.setTimeout(240_000);

it('stores every reading and sends every alert once after DynamoDB was unreachable for 10 s mid-stream', async () => {
  const result = await runPassingDrill(dynamodbOutageDrill);
  expect(result.readings).toEqual({ sent: 3_000, stored: 3_000, failureQueue: 0 });
  const backlog = result.checks.find((entry) => entry.name === 'the outage held readings back');
  expect(Number(backlog?.detail.split(' ')[0]?.replace(/,/g, ''))).toBeGreaterThan(0);
});
