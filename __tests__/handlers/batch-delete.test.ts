/**
 * Bulk deletes for the tools and the local platform: BatchWriteItem takes 25 requests and
 * may hand some back as UnprocessedItems, which the caller must send again
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchDeleteAll, type RetryContext } from '../../handlers/batch-write';

type DeleteRequest = { DeleteRequest: { Key: Record<string, unknown> } };
type Call = { input: { RequestItems: Record<string, DeleteRequest[]> } };

/** A table of `count` keys whose BatchWriteItem hands back the last request of each call `unprocessedCalls` times. */
function fakeTable(count: number, unprocessedCalls: number) {
  const items = new Set(Array.from({ length: count }, (_, index) => `k${index}`));
  const calls: number[] = [];
  let handBacks = unprocessedCalls;
  const client = {
    send: async (command: Call) => {
      const requests = command.input.RequestItems.t ?? [];
      calls.push(requests.length);
      const kept = handBacks > 0 ? requests.slice(-1) : [];
      if (handBacks > 0) handBacks--;
      for (const request of requests.slice(0, requests.length - kept.length)) items.delete(String(request.DeleteRequest.Key.id));
      return { UnprocessedItems: kept.length > 0 ? { t: kept } : {} };
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, items, calls };
}

const noWait: RetryContext = { policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, random: () => 0.5, sleep: async () => undefined };
const keys = (count: number) => Array.from({ length: count }, (_, index) => ({ id: `k${index}` }));

describe('batchDeleteAll', () => {
  it('deletes every key, 25 per call, sending unprocessed requests again', async () => {
    const table = fakeTable(60, 2);
    await batchDeleteAll(table.client, 't', keys(60), noWait);
    expect(table.items.size).toBe(0);
    // 25, then its handed-back request twice, then 25 and 10.
    expect(table.calls).toEqual([25, 1, 1, 25, 10]);
  });

  it('rejects naming what is left when the retries run out', async () => {
    const table = fakeTable(5, 10);
    await expect(batchDeleteAll(table.client, 't', keys(5), noWait)).rejects.toThrow('t: 1 deletes still unprocessed after 3 attempts');
    expect(table.items).toEqual(new Set(['k4']));
  });
});
