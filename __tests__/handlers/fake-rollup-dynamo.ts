/**
 * An in-memory DynamoDB, as the store handler's document client sees it, for the rollup
 * property tests: the things table (BatchWriteItem puts, Query by time range), the rollups
 * table (BatchGetItem, PutItem with the two conditions the handler writes), and faults to
 * inject per call. Fast enough to try thousands of delivery orders; the same handler runs
 * on dynalite in the integration test.
 */
import { NumberValue, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;

/** A copy that keeps NumberValue instances (the handler reads numbers as they come back with wrapNumbers). */
const copy = (item: Item): Item =>
  Object.fromEntries(Object.entries(item).map(([key, value]) => [key, typeof value === 'object' && value !== null && !(value instanceof NumberValue) ? { ...value } : value]));

export interface FakeCall {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/** What a call does instead of answering: fail (as DynamoDB would), or never answer (the process died). */
export type Fault = 'throttle' | 'server-error' | 'hang' | undefined;

export class FakeRollupDynamo {
  readonly tables = new Map<string, Map<string, Item>>();
  calls = 0;
  /** Asked before every call. */
  fault: (call: FakeCall) => Fault = () => undefined;

  constructor(private readonly keyAttributes: Readonly<Record<string, readonly string[]>>) {
    for (const table of Object.keys(keyAttributes)) this.tables.set(table, new Map());
  }

  /** A client whose calls reach this table until `kill()`; after that they never answer, as in a dead process. */
  client(): { readonly dynamo: DynamoDBDocumentClient; kill(): void } {
    let dead = false;
    const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> => {
      const call = { command: command.constructor.name, input: command.input };
      if (dead) return new Promise(() => undefined);
      this.calls++;
      const fault = this.fault(call);
      if (fault === 'hang') {
        dead = true;
        return new Promise(() => undefined);
      }
      if (fault === 'throttle') throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } });
      if (fault === 'server-error') throw Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
      // Answered on a later turn, as a network call would be, so concurrent calls interleave.
      await Promise.resolve();
      return this.answer(call);
    };
    return { dynamo: { send } as unknown as DynamoDBDocumentClient, kill: () => void (dead = true) };
  }

  items(table: string): Item[] {
    return [...(this.tables.get(table) as Map<string, Item>).values()];
  }

  private keyOf(table: string, item: Item): string {
    return (this.keyAttributes[table] as readonly string[]).map((name) => String(item[name])).join('\u0000');
  }

  private table(name: unknown): Map<string, Item> {
    const table = this.tables.get(String(name));
    if (table === undefined) throw Object.assign(new Error(`Requested resource not found: ${String(name)}`), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
    return table;
  }

  private answer({ command, input }: FakeCall): unknown {
    switch (command) {
      case 'BatchWriteCommand': {
        for (const [name, requests] of Object.entries(input.RequestItems as Record<string, { PutRequest: { Item: Item } }[]>)) {
          const table = this.table(name);
          for (const { PutRequest } of requests) table.set(this.keyOf(name, PutRequest.Item), copy(PutRequest.Item));
        }
        return { UnprocessedItems: {} };
      }
      case 'BatchGetCommand': {
        const responses: Record<string, Item[]> = {};
        for (const [name, request] of Object.entries(input.RequestItems as Record<string, { Keys: Item[] }>)) {
          const table = this.table(name);
          responses[name] = request.Keys.flatMap((key) => {
            const found = table.get(this.keyOf(name, key));
            return found === undefined ? [] : [copy(found)];
          });
        }
        return { Responses: responses, UnprocessedKeys: {} };
      }
      case 'PutCommand': {
        const table = this.table(input.TableName);
        const item = input.Item as Item;
        const key = this.keyOf(String(input.TableName), item);
        const current = table.get(key);
        const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
        const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
        const condition = input.ConditionExpression as string | undefined;
        let holds = true;
        if (condition === 'attribute_not_exists(#version)') holds = current?.[names['#version'] as string] === undefined;
        else if (condition === '#version = :version') holds = current !== undefined && current[names['#version'] as string] === values[':version'];
        else if (condition !== undefined) throw new Error(`the fake does not know the condition ${condition}`);
        if (!holds) throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException', $metadata: { httpStatusCode: 400 } });
        table.set(key, copy(item));
        return {};
      }
      case 'QueryCommand': {
        const name = String(input.TableName);
        const values = input.ExpressionAttributeValues as Record<string, string>;
        const [hashName, rangeName] = this.keyAttributes[name] as readonly string[];
        const found = this.items(name)
          .filter((item) => item[hashName as string] === values[':series'] && String(item[rangeName as string]) >= values[':from']! && String(item[rangeName as string]) <= values[':to']!)
          .sort((a, b) => (String(a[rangeName as string]) < String(b[rangeName as string]) ? -1 : 1));
        return { Items: found.map((item) => copy(item)) };
      }
      case 'UpdateCommand':
        return {};
      default:
        throw new Error(`the fake does not answer ${command}`);
    }
  }
}
