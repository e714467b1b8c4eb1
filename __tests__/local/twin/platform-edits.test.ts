/**
 * The local platform follows the synthesized JSON, not the sources: edits of cdk.tf.json
 * (a function's environment, a mapping's batch size, a table's TTL attribute, the target
 * group's health check, a resource type, a reference) change what runs, as the same edits
 * would change what `terraform apply` deploys. The API Gateway edits are in
 * __tests__/local/api-gateway/stack-edits.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { readingsOfItems } from '../../../handlers/reading-segment';
import { startLocalPlatform, type LocalPlatform, type LocalPlatformOptions } from '../../../local/platform';
import { TwinResolutionError } from '../../../local/twin/stack';
import { platformTarget, targetDynamo } from '../../../tools/target';
import { consumerStats, drillReadings, FREE_PORTS, sendBatches } from '../../../verify/probe';
import { waitFor } from '../harness';
import { editedStack, resourceOf, type EditedStack, type StackJson } from './edited-stack';


type Variables = Record<string, string>;
const variablesOf = (json: StackJson, suffix: string): Variables => (resourceOf(json, 'aws_lambda_function', suffix).environment as { variables: Variables }).variables;

describe('the local platform runs the stack as edited', () => {
  let dataDir: string;
  let stack: EditedStack;
  let platform: LocalPlatform;
  const logs: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'platform-edits-'));
    stack = await editedStack((json) => {
      // One shard, so one poller sees every record in order.
      resourceOf(json, 'aws_kinesis_stream', 'stream').shard_count = 1;
      Object.assign(resourceOf(json, 'aws_lambda_event_source_mapping', 'store-readings-mapping'), { batch_size: 7, maximum_batching_window_in_seconds: 2 });
      // Readings go to the alerts table (same key schema) instead of the readings table.
      variablesOf(json, 'store-readings').THINGS_TABLE = '${aws_dynamodb_table.tables_alerts.name}';
      // A variable the alert handler needs, gone from the stack.
      delete variablesOf(json, 'threshold-alerts').THRESHOLDS_TABLE;
      (resourceOf(json, 'aws_dynamodb_table', 'tables_things').ttl as { attribute_name: string }).attribute_name = 'PurgeAt';
      // The web container keeps hour rollups, and so the minutes inside them, for a day only (its task definition's environment).
      const task = resourceOf(json, 'aws_ecs_task_definition', 'task-definition');
      const containers = JSON.parse(String(task.container_definitions)) as { environment: { name: string; value: string }[] }[];
      for (const variable of containers[0]?.environment ?? []) if (variable.name === 'HOUR_ROLLUP_RETENTION_DAYS') variable.value = '1';
      task.container_definitions = JSON.stringify(containers);
    });
    platform = await startLocalPlatform({ dataDir, ports: FREE_PORTS, stackFile: stack.file, log: (line) => logs.push(line) });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    stack?.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("gives each function exactly the stack's environment: an edited variable is followed, a removed one is missing", async () => {
    // One reading per request, so one stream record each (a bigger batch would be packed into a record or two).
    await sendBatches(platform, drillReadings(30, { prefix: 'edits', things: 3, startMs: Date.now() - 60_000 }), 1);
    await waitFor('the store consumer', () => (consumerStats(platform, 'store-readings').recordsDone === 30 ? true : undefined), 30_000);
    const dynamo = targetDynamo(platformTarget(platform));
    try {
      const count = async (table: string) => (await dynamo.send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }))).Count;
      // Segment items (a series' readings of one consumer batch each), decoded as every reader does: all 30 readings.
      const items = (await dynamo.send(new ScanCommand({ TableName: platform.tables.alerts, ConsistentRead: true }))).Items ?? [];
      expect([...readingsOfItems(items).values()].reduce((total, readings) => total + readings.length, 0)).toBe(30);
      expect(await count(platform.tables.things)).toBe(0);
    } finally {
      dynamo.destroy();
    }
    await waitFor('the alert consumer to fail', () => (consumerStats(platform, 'threshold-alerts').retries > 0 ? true : undefined), 30_000);
    expect(logs.some((line) => line.includes('THRESHOLDS_TABLE is missing'))).toBe(true);
  }, 60_000);

  it("batches by the mapping's edited batch size: 30 records in batches of at most 7", () => {
    // Put within a fraction of the 2 s window, the records come in as 7 + 7 + 7 + 7 + 2.
    expect(consumerStats(platform, 'store-readings').invocations).toBe(5);
  });

  it("answers step=auto by the web container's edited rollup retention: 30 hours ago is past a day of hours and their minutes, so days", async () => {
    const now = Date.now();
    const query = new URLSearchParams({ thing: 'edits/t', from: new Date(now - 30 * 3_600_000).toISOString(), to: new Date(now).toISOString(), step: 'auto' });
    const response = await fetch(`${platform.urls.web}/api/rollups?${query}`);
    expect(response.status).toBe(200);
    // 1,800 minute buckets would fit the 2,000 allowed: only the retention rules minutes and hours out.
    expect(((await response.json()) as { step: string }).step).toBe('1d');
  });

  it("expires items by the table's edited TTL attribute (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html)", async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const dynamo = targetDynamo(platformTarget(platform));
    try {
      await dynamo.send(new PutCommand({ TableName: platform.tables.things, Item: { ThingID: 'ttl/t', Timestamp: 'purge', PurgeAt: past } }));
      await dynamo.send(new PutCommand({ TableName: platform.tables.things, Item: { ThingID: 'ttl/t', Timestamp: 'expires', ExpiresAt: past } }));
      expect(await platform.sweepExpiredItems()).toBe(1);
      const left = await dynamo.send(new ScanCommand({ TableName: platform.tables.things, ConsistentRead: true }));
      expect(left.Items?.map((item) => item.Timestamp)).toEqual(['expires']);
    } finally {
      dynamo.destroy();
    }
  });
});

describe('the local platform refuses a stack it cannot run, naming why', () => {
  const attempt = async (edit: (json: StackJson) => void, options: Partial<LocalPlatformOptions> = {}) => {
    const stack = await editedStack(edit);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'platform-refuses-'));
    try {
      const platform = await startLocalPlatform({ dataDir, ports: FREE_PORTS, stackFile: stack.file, log: () => undefined, ...options });
      await platform.stop();
      return undefined;
    } catch (error) {
      return error as Error;
    } finally {
      stack.remove();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  it('stops at a resource type it neither emulates nor lists as control-plane only', async () => {
    const error = await attempt((json) => {
      json.resource.aws_redshift_cluster = { warehouse: { cluster_identifier: 'iot' } };
    });
    expect(error).toBeInstanceOf(TwinResolutionError);
    expect(error?.message).toMatch(/aws_redshift_cluster \(aws_redshift_cluster\.warehouse\)/);
  });

  it('stops at a reference it cannot resolve, naming the resource and the argument', async () => {
    const error = await attempt((json) => {
      variablesOf(json, 'store-readings').FAILURE_QUEUE_URL = '${aws_sqs_queue.removed.url}';
    });
    expect(error).toBeInstanceOf(TwinResolutionError);
    expect(error).toMatchObject({ address: 'aws_lambda_function.consumers_store-readings', attribute: 'environment.variables.FAILURE_QUEUE_URL' });
    expect(error?.message).toMatch(/no resource aws_sqs_queue\.removed/);
  });

  it("stops when the web app fails the target group's edited health check (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html)", async () => {
    const error = await attempt((json) => {
      (resourceOf(json, 'aws_lb_target_group', 'target-group').health_check as { path: string }).path = '/not-a-route';
    });
    expect(error?.message).toMatch(/health check: GET \/not-a-route answered 404, expected 200/);
  });
});
