/**
 * The whole platform on this machine, built from the synthesized `pipeline` stack (a local
 * twin of it): every resource the stack declares is emulated from its own arguments, or
 * listed as control-plane only (twin/coverage.ts), and references between resources
 * resolve to the local values of the resources they point at (twin/load-stack.ts).
 *
 *   const platform = await startLocalPlatform({ dataDir, ports: { ingest: 0, ... } });
 *   // platform.urls.ingest, platform.apiKey ...
 *   await platform.stop();
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { PIPELINE_OUTPUTS } from '../stacks/output-names';
import { localWorker } from './bundles';
import { CheckpointStore } from './checkpoints';
import { DEFAULT_PORTS, LOCAL_CREDENTIALS, LOCAL_DEFAULTS, type LocalPorts, type TableNames } from './defaults';
import { startDynamoEmulator, startKinesisEmulator, type RestartableEmulator, type RunningEmulator } from './emulators';
import type { MappingStats } from './event-source-mapping';
import { acquireInstanceLock } from './instance-lock';
import { startMessaging, type PublishedMessage, type QueuedMessage } from './messaging';
import { startTtlSweeper } from './ttl-sweeper';
import type { UsageMeter } from './usage-meter';
import { checkCoverage, type CoverageReport } from './twin/coverage';
import { startConsumers } from './twin/consumers';
import { ensureStreams, ensureTables, tableSpecs } from './twin/data-stores';
import { startDeliveries } from './twin/delivery-streams';
import { startSchedules, type ScheduleStats } from './twin/schedules';
import type { DeliveryStats } from './twin/firehose';
import { startIngest } from './twin/ingest';
import { loadStack } from './twin/load-stack';
import { formatDeliveries, topicSubscriptions, type TopicSubscription } from './twin/subscriptions';
import { synthesizeStacks, type ConfigurationFile } from './twin/synth';
import { startWebService, webServiceSpec } from './twin/web-service';

export interface LocalPlatformOptions {
  /** Where data, checkpoints, functions and the lock live. @default LOCAL_DEFAULTS.dataDir */
  readonly dataDir?: string;
  /** Start with empty tables, stream, queues and archive. @default false */
  readonly clean?: boolean;
  /** @default LOCAL_DEFAULTS.host */
  readonly host?: string;
  /** @default DEFAULT_PORTS, and the web app on its container's port */
  readonly ports?: Partial<LocalPorts>;
  /** The value of an API key the stack leaves to AWS to generate. @default LOCAL_DEFAULTS.apiKey */
  readonly apiKey?: string;
  /** The synthesized pipeline stack to run, as it is. @default synthesized now (see `configuration`) */
  readonly stackFile?: string;
  /**
   * Synthesize with this configuration (as `platform.config.json` holds it), whatever the
   * checkout's file and `PLATFORM_*` variables say. @default the user's, into cdktf.out
   */
  readonly configuration?: ConfigurationFile;
  /** Overrides every delivery stream's buffering interval (seconds). @default the stack's */
  readonly archiveBufferSeconds?: number;
  /** Runs every EventBridge schedule every this many seconds instead of its expression. @default the stack's */
  readonly scheduleIntervalSeconds?: number;
  /** Status lines, function logs and alerts. @default console.log */
  readonly log?: (line: string) => void;
  /** The functions' application log level (as `logging_config.application_log_level`). @default LOCAL_DEFAULTS.handlerLogLevel */
  readonly handlerLogLevel?: string;
  /** Counts what the platform does in the units AWS bills (`npm run cost`). @default none */
  readonly meter?: UsageMeter;
}

export interface LocalPlatform {
  readonly urls: {
    /** PUT one reading. */
    readonly ingest: string;
    /** POST a batch. */
    readonly batchIngest: string;
    readonly web: string;
    readonly dynamodb: string;
    readonly kinesis: string;
    /** SNS and SQS; `GET /` lists alerts and failure-queue messages. */
    readonly messaging: string;
  };
  /** The synthesized stack running, and what of it is emulated. */
  readonly stackFile: string;
  readonly coverage: CoverageReport;
  readonly apiKey: string;
  readonly region: string;
  readonly dataDir: string;
  /** Where delivery streams write: `<archiveDir>/<bucket>/<key>`. */
  readonly archiveDir: string;
  readonly tables: TableNames;
  readonly streamName: string;
  readonly shardCount: number;
  readonly alertTopicArn: string;
  readonly failureQueueUrl: string;
  /** Subscriptions of the stack's topics: who would receive what the console shows. */
  readonly subscriptions: readonly TopicSubscription[];
  /** Alerts published, oldest first, earlier runs' included (they are kept in the data folder). */
  alerts(): readonly PublishedMessage[];
  /** Messages in the failure queue (rejected records, batches given up on), oldest first. */
  failureQueue(): readonly QueuedMessage[];
  /** Progress of each function's event source mapping, by function name. */
  consumers(): Readonly<Record<string, MappingStats>>;
  /** Has every event source mapping deliver what its shards hold now, without waiting out the batching window (not a Lambda feature: for tools that send in rounds). */
  endBatchingWindows(): void;
  /** Progress of each delivery stream, by name. */
  deliveries(): Readonly<Record<string, DeliveryStats>>;
  /** Writes what every delivery stream buffers now, as its buffering interval would. */
  flushDeliveries(): Promise<void>;
  /** Runs of each EventBridge schedule, by name. */
  schedules(): Readonly<Record<string, ScheduleStats>>;
  /** Deletes expired items now, as DynamoDB's TTL does in the background; resolves to how many. */
  sweepExpiredItems(): Promise<number>;
  /** Failure injection for drills and experiments. */
  readonly faults: {
    /** Takes the DynamoDB emulator down (its port refuses connections) until `restoreDynamoDB`. */
    interruptDynamoDB(): Promise<void>;
    /** Brings the DynamoDB emulator back on the same port with the same data. */
    restoreDynamoDB(): Promise<void>;
  };
  /** Stops taking readings, lets the consumers finish the batches in hand, writes what the archive buffers, then stops everything. */
  stop(): Promise<void>;
}

/** Something started, and how to stop it: stopped in reverse order, on failure as on `stop()`. */
type Stopper = () => Promise<void> | void;

export async function startLocalPlatform(options: LocalPlatformOptions = {}): Promise<LocalPlatform> {
  const host = options.host ?? LOCAL_DEFAULTS.host;
  const apiKey = options.apiKey ?? LOCAL_DEFAULTS.apiKey;
  const dataDir = path.resolve(options.dataDir ?? LOCAL_DEFAULTS.dataDir);
  const log = options.log ?? ((line: string) => console.log(line));
  const { meter } = options;

  mkdirSync(dataDir, { recursive: true });
  const lock = acquireInstanceLock(path.join(dataDir, 'platform.lock'), dataDir);
  const stoppers: Stopper[] = [() => lock.release()];
  const stopAll = async () => {
    const errors: unknown[] = [];
    for (const stopper of stoppers.splice(0).reverse()) {
      try {
        await stopper();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `the local platform did not stop cleanly: ${errors.map((error) => (error as Error).message).join('; ')}`);
  };

  // The synth runs in a process of its own while this one builds the worker and starts the emulators.
  const stackFile = options.stackFile !== undefined ? Promise.resolve(options.stackFile) : synthesizeStacks(options.configuration === undefined ? {} : { configuration: options.configuration }).then((synthesized) => synthesized.stackFile('pipeline'));
  // Awaited below; this only keeps a failure before then from counting as unhandled.
  stackFile.catch(() => undefined);

  try {
    const dirs = {
      dynamodb: path.join(dataDir, 'dynamodb'),
      kinesis: path.join(dataDir, 'kinesis'),
      messaging: path.join(dataDir, 'messaging'),
      archive: path.join(dataDir, 'archive'),
      checkpoints: path.join(dataDir, 'checkpoints.json'),
      apiKeys: path.join(dataDir, 'api-keys.json'),
    };
    if (options.clean === true) for (const state of Object.values(dirs)) rmSync(state, { recursive: true, force: true });
    mkdirSync(dirs.messaging, { recursive: true });
    // esbuild is synchronous: built before the emulators' ports open.
    const workerFile = localWorker(path.join(dataDir, 'build'));

    const ports: LocalPorts = { ...DEFAULT_PORTS, ...options.ports };
    const emulators = await Promise.allSettled([startDynamoEmulator({ host, port: ports.dynamodb, path: dirs.dynamodb, ...(meter && { tap: meter.dynamoTap }) }), startKinesisEmulator({ host, port: ports.kinesis, path: dirs.kinesis, ...(meter && { tap: meter.kinesisTap }) })]);
    for (const result of emulators) if (result.status === 'fulfilled') stoppers.push(() => result.value.stop());
    const failed = emulators.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const [dynamoEmulator, kinesisEmulator] = emulators.map((result) => (result as PromiseFulfilledResult<unknown>).value) as [RestartableEmulator, RunningEmulator];

    const endpoints: { sqs?: string; apiGateway?: string; loadBalancer?: string } = {};
    const stack = loadStack(await stackFile, { apiKeyValue: apiKey, endpoints: { sqs: () => endpoints.sqs, apiGateway: () => endpoints.apiGateway, loadBalancer: () => endpoints.loadBalancer } });
    const coverage = checkCoverage(stack);
    const region = stack.region;
    const subscriptions = topicSubscriptions(stack);

    const messaging = await startMessaging({
      host,
      port: ports.messaging,
      region,
      topicNames: stack.resources('aws_sns_topic').map((topic) => String(topic.config.name)),
      queueNames: stack.resources('aws_sqs_queue').map((queue) => String(queue.config.name)),
      dataDir: dirs.messaging,
      onPublish: (message) => log(formatDeliveries(message, subscriptions)),
    });
    stoppers.push(() => messaging.stop());
    endpoints.sqs = messaging.endpoint;

    const clientConfig = { region, credentials: LOCAL_CREDENTIALS };
    const dynamo = new DynamoDBClient({ ...clientConfig, endpoint: dynamoEmulator.endpoint });
    // kinesalite speaks HTTP/1 only.
    const kinesis = new KinesisClient({ ...clientConfig, endpoint: kinesisEmulator.endpoint, requestHandler: new NodeHttpHandler() });
    const sqs = new SQSClient({ ...clientConfig, endpoint: messaging.endpoint });
    const sns = new SNSClient({ ...clientConfig, endpoint: messaging.endpoint });
    stoppers.push(() => [dynamo, kinesis, sqs, sns].forEach((client) => client.destroy()));

    const tables = tableSpecs(stack);
    for (const note of (await ensureTables(dynamo, tables)).notes) log(`note: ${note}`);
    const streams = await ensureStreams(stack, kinesis, log);
    const checkpoints = new CheckpointStore(dirs.checkpoints);
    const started = (stop: Stopper) => void stoppers.push(stop);
    const { mappings, functions } = startConsumers({
      stack,
      functionsDir: path.join(dataDir, 'functions'),
      workerFile,
      kinesis,
      sqs,
      sns,
      streams,
      checkpoints,
      endpoints: { DYNAMODB: dynamoEmulator.endpoint, KINESIS: kinesisEmulator.endpoint, SNS: messaging.endpoint, SQS: messaging.endpoint },
      applicationLogLevel: options.handlerLogLevel ?? LOCAL_DEFAULTS.handlerLogLevel,
      log,
      started,
      meter,
    });
    const schedules = startSchedules({ stack, functions, log, ...(options.scheduleIntervalSeconds === undefined ? {} : { intervalSeconds: options.scheduleIntervalSeconds }) });
    stoppers.push(() => schedules.stop());
    const sweeper = startTtlSweeper({ client: dynamo, tables, log });
    stoppers.push(() => sweeper.stop());
    const deliveries = startDeliveries({
      stack,
      archiveDir: dirs.archive,
      kinesis,
      streams,
      checkpoints,
      functions,
      ...(options.archiveBufferSeconds === undefined ? {} : { bufferSeconds: options.archiveBufferSeconds }),
      log,
      started,
      meter,
    });

    const webSpec = webServiceSpec(stack);
    let webUrl = '';
    if (webSpec !== undefined) {
      const web = await startWebService({ spec: webSpec, host, port: options.ports?.web ?? webSpec.containerPort, dynamodbEndpoint: dynamoEmulator.endpoint, credentials: LOCAL_CREDENTIALS });
      stoppers.push(() => web.close());
      webUrl = web.url;
      endpoints.loadBalancer = web.url;
    }

    // The ingest API opens last and closes first: nothing is acknowledged that the rest cannot take.
    const output = (name: string) => String(stack.output(name));
    const ingest = await startIngest({ stack, host, port: ports.ingest, kinesisEndpoint: kinesisEmulator.endpoint, apiKeyValue: apiKey, apiKeysFile: dirs.apiKeys, log, meter });
    stoppers.push(() => ingest.close());
    endpoints.apiGateway = ingest.baseUrl;

    const urls = {
      ingest: output(PIPELINE_OUTPUTS.ingestUrl),
      batchIngest: output(PIPELINE_OUTPUTS.batchIngestUrl),
      web: webUrl,
      dynamodb: dynamoEmulator.endpoint,
      kinesis: kinesisEmulator.endpoint,
      messaging: messaging.endpoint,
    };
    const tableNames: TableNames = {
      things: output(PIPELINE_OUTPUTS.thingsTable),
      thresholds: output(PIPELINE_OUTPUTS.thresholdsTable),
      alerts: output(PIPELINE_OUTPUTS.alertsTable),
      series: output(PIPELINE_OUTPUTS.seriesTable),
      rollups: output(PIPELINE_OUTPUTS.rollupsTable),
    };
    const failureQueueUrl = output(PIPELINE_OUTPUTS.failureQueueUrl);
    lock.describe({ urls: { ...urls, failureQueue: failureQueueUrl }, tables: tableNames, region, apiKey: ingest.apiKey });
    const stream = [...streams.values()].find(({ name }) => name === output(PIPELINE_OUTPUTS.streamName));

    return {
      urls,
      stackFile: stack.file,
      coverage,
      apiKey: ingest.apiKey,
      region,
      dataDir,
      archiveDir: dirs.archive,
      tables: tableNames,
      streamName: output(PIPELINE_OUTPUTS.streamName),
      shardCount: stream?.info.shardIds.length ?? 0,
      alertTopicArn: output(PIPELINE_OUTPUTS.alertTopicArn),
      failureQueueUrl,
      subscriptions,
      alerts: () => messaging.published(),
      failureQueue: () => messaging.queueMessages(failureQueueUrl.split('/').pop() ?? ''),
      consumers: () => Object.fromEntries(Object.entries(mappings).map(([name, mapping]) => [name, mapping.stats()])),
      endBatchingWindows: () => Object.values(mappings).forEach((mapping) => mapping.endBatchingWindows()),
      deliveries: () => Object.fromEntries(Object.entries(deliveries).map(([name, delivery]) => [name, delivery.stats()])),
      flushDeliveries: async () => void (await Promise.all(Object.values(deliveries).map((delivery) => delivery.flush()))),
      schedules: () => schedules.stats(),
      sweepExpiredItems: () => sweeper.sweep(),
      faults: {
        interruptDynamoDB: () => dynamoEmulator.takeDown(),
        restoreDynamoDB: () => dynamoEmulator.bringBack(),
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
