/**
 * The whole platform on this machine (SPEC §4): DynamoDB and Kinesis emulators from npm,
 * a local SNS/SQS, the ingest API, both consumers fed by local event source mappings
 * from the same handler bundles Lambda runs, and the web app, with every name and
 * setting taken from the definitions the stacks use.
 *
 *   const platform = await startLocalPlatform({ dataDir, ports: { ingest: 0, ... } });
 *   // platform.urls.ingest, platform.apiKey ...
 *   await platform.stop();
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { FastifyInstance } from 'fastify';
import type { HandlerName } from '../build/handler-bundle';
import { DEFAULT_NAMES, HANDLER_ENV } from '../handlers/contract';
import { loadConfig, type PlatformConfig } from '../stacks/config';
import { buildApp } from '../web/app';
import { createWebDynamoClient } from '../web/dynamo-client';
import { createDynamoRepository } from '../web/dynamo-repository';
import { CheckpointStore } from './checkpoints';
import { DEFAULT_PORTS, LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_DEFAULTS, LOCAL_TABLES, type LocalPorts } from './defaults';
import { startDynamoEmulator, startKinesisEmulator, type RestartableEmulator, type RunningEmulator } from './emulators';
import { eventSourceSettings, startEventSourceMapping, type EventSourceMapping, type MappingStats } from './event-source-mapping';
import { buildIngestApi, INGEST_PATHS } from './ingest-api';
import { acquireInstanceLock, type InstanceLock } from './instance-lock';
import { localBundles } from './bundles';
import { startLocalFunction, type RunningFunction } from './lambda-runtime';
import { startMessaging, type Messaging, type PublishedMessage, type QueuedMessage } from './messaging';
import { ensureStream, ensureTables, type TableNames } from './resources';
import { startTtlSweeper, type TtlSweeper } from './ttl-sweeper';

export interface LocalPlatformOptions {
  /** Where data, checkpoints, bundles and the lock live. @default LOCAL_DEFAULTS.dataDir */
  readonly dataDir?: string;
  /** Start with empty tables, stream and queues. @default false */
  readonly clean?: boolean;
  /** @default LOCAL_DEFAULTS.host */
  readonly host?: string;
  /** @default DEFAULT_PORTS */
  readonly ports?: Partial<LocalPorts>;
  /** @default LOCAL_DEFAULTS.apiKey */
  readonly apiKey?: string;
  /** @default LOCAL_DEFAULTS.region */
  readonly region?: string;
  /** Shard count, batch size and window, cooldown, retention. @default loadConfig() (the stacks' configuration) */
  readonly config?: PlatformConfig;
  /** Status lines, handler logs and alerts. @default console.log */
  readonly log?: (line: string) => void;
  /** Powertools log level of the handlers. @default LOCAL_DEFAULTS.handlerLogLevel */
  readonly handlerLogLevel?: string;
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
  readonly apiKey: string;
  readonly region: string;
  readonly dataDir: string;
  readonly tables: TableNames;
  readonly streamName: string;
  readonly shardCount: number;
  readonly alertTopicArn: string;
  readonly failureQueueUrl: string;
  /** Alerts published, oldest first, earlier runs' included (they are kept in the data folder). */
  alerts(): readonly PublishedMessage[];
  /** Messages in the failure queue (rejected records, batches given up on), oldest first. */
  failureQueue(): readonly QueuedMessage[];
  /** Progress of each consumer's event source mapping. */
  consumers(): Readonly<Record<HandlerName, MappingStats>>;
  /** Failure injection for drills and experiments. */
  readonly faults: {
    /** Takes the DynamoDB emulator down (its port refuses connections) until `restoreDynamoDB`. */
    interruptDynamoDB(): Promise<void>;
    /** Brings the DynamoDB emulator back on the same port with the same data. */
    restoreDynamoDB(): Promise<void>;
  };
  /** Stops taking readings, lets the consumers finish the batches in hand, then stops everything. */
  stop(): Promise<void>;
}

/** Something started, and how to stop it: stopped in reverse order, on failure as on `stop()`. */
type Stopper = () => Promise<void> | void;

async function listenOn(app: FastifyInstance, name: string, host: string, port: number): Promise<string> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`the ${name} cannot listen on ${host}:${port}: the port is in use by another program`);
    throw error;
  }
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error(`the ${name} has no TCP address`);
  return `http://${host}:${address.port}`;
}

export async function startLocalPlatform(options: LocalPlatformOptions = {}): Promise<LocalPlatform> {
  const config = options.config ?? loadConfig();
  const host = options.host ?? LOCAL_DEFAULTS.host;
  const ports: LocalPorts = { ...DEFAULT_PORTS, ...options.ports };
  const region = options.region ?? LOCAL_DEFAULTS.region;
  const apiKey = options.apiKey ?? LOCAL_DEFAULTS.apiKey;
  const dataDir = path.resolve(options.dataDir ?? LOCAL_DEFAULTS.dataDir);
  const log = options.log ?? ((line: string) => console.log(line));
  const shardCount = config.stream.shardCount;

  mkdirSync(dataDir, { recursive: true });
  const lock: InstanceLock = acquireInstanceLock(path.join(dataDir, 'platform.lock'), dataDir);
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

  try {
    const stateDirs = { dynamodb: path.join(dataDir, 'dynamodb'), kinesis: path.join(dataDir, 'kinesis'), messaging: path.join(dataDir, 'messaging'), checkpoints: path.join(dataDir, 'checkpoints.json') };
    if (options.clean === true) for (const state of Object.values(stateDirs)) rmSync(state, { recursive: true, force: true });
    mkdirSync(stateDirs.messaging, { recursive: true });

    // Bundles first: esbuild is synchronous, and the emulators' ports should open only once they can serve.
    const bundles = localBundles(path.join(dataDir, 'build'));

    const started = await Promise.allSettled([
      startDynamoEmulator({ host, port: ports.dynamodb, path: stateDirs.dynamodb }),
      startKinesisEmulator({ host, port: ports.kinesis, path: stateDirs.kinesis }),
      startMessaging({
        host,
        port: ports.messaging,
        region,
        topicNames: [LOCAL_DEFAULTS.alertTopic],
        queueNames: [LOCAL_DEFAULTS.failureQueue],
        dataDir: stateDirs.messaging,
        onPublish: (message) => log(formatAlert(message)),
      }),
    ]);
    for (const result of started) if (result.status === 'fulfilled') stoppers.push(() => result.value.stop());
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const [dynamoEmulator, kinesisEmulator, messaging] = started.map((result) => (result as PromiseFulfilledResult<unknown>).value) as [RestartableEmulator, RunningEmulator, Messaging];

    const clientConfig = { region, credentials: LOCAL_CREDENTIALS };
    const dynamo = new DynamoDBClient({ ...clientConfig, endpoint: dynamoEmulator.endpoint });
    // kinesalite speaks HTTP/1 only.
    const kinesis = new KinesisClient({ ...clientConfig, endpoint: kinesisEmulator.endpoint, requestHandler: new NodeHttpHandler() });
    const sqs = new SQSClient({ ...clientConfig, endpoint: messaging.endpoint });
    stoppers.push(() => {
      dynamo.destroy();
      kinesis.destroy();
      sqs.destroy();
    });

    await ensureTables(dynamo, LOCAL_TABLES);
    const stream = await ensureStream(kinesis, DEFAULT_NAMES.stream, shardCount);
    if (stream.shardIds.length !== shardCount) {
      log(`note: stream ${DEFAULT_NAMES.stream} kept from an earlier run has ${stream.shardIds.length} shards, not the configured ${shardCount}; start with --clean to recreate it`);
    }

    const alertTopicArn = messaging.topicArn(LOCAL_DEFAULTS.alertTopic);
    const failureQueueUrl = messaging.queueUrl(LOCAL_DEFAULTS.failureQueue);
    const handlerEnv = (name: string): Record<string, string> => ({
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEmulator.endpoint,
      AWS_ENDPOINT_URL_SNS: messaging.endpoint,
      AWS_ENDPOINT_URL_SQS: messaging.endpoint,
      // Lambda runs Node 22; the SDK's warning about Node 20 is noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.consumers.memoryMiB),
      POWERTOOLS_SERVICE_NAME: name,
      POWERTOOLS_LOG_LEVEL: options.handlerLogLevel ?? LOCAL_DEFAULTS.handlerLogLevel,
      [HANDLER_ENV.thingsTable]: LOCAL_TABLES.things,
      [HANDLER_ENV.thresholdsTable]: LOCAL_TABLES.thresholds,
      [HANDLER_ENV.alertsTable]: LOCAL_TABLES.alerts,
      [HANDLER_ENV.seriesTable]: LOCAL_TABLES.series,
      [HANDLER_ENV.alertTopicArn]: alertTopicArn,
      [HANDLER_ENV.failureQueueUrl]: failureQueueUrl,
      [HANDLER_ENV.alertCooldownSeconds]: String(config.alerts.cooldownSeconds),
      ...(config.tables.hotRetentionDays == null ? {} : { [HANDLER_ENV.hotRetentionDays]: String(config.tables.hotRetentionDays) }),
    });

    const checkpoints = new CheckpointStore(stateDirs.checkpoints);
    const settings = eventSourceSettings({ batchSize: config.consumers.batchSize, maximumBatchingWindowSeconds: config.consumers.batchWindowSeconds });
    const mappings = {} as Record<HandlerName, EventSourceMapping>;
    for (const [name, bundleFile] of bundles.handlers) {
      const fn: RunningFunction = startLocalFunction({
        name,
        arn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${name}`,
        bundleFile,
        workerFile: bundles.worker,
        env: handlerEnv(name),
        timeoutSeconds: config.consumers.timeoutSeconds,
        memoryMiB: config.consumers.memoryMiB,
        onLog: (line) => log(`[${name}] ${line}`),
      });
      stoppers.push(() => fn.stop());
      const mapping = startEventSourceMapping({
        kinesis,
        streamName: DEFAULT_NAMES.stream,
        streamArn: stream.arn,
        shardIds: stream.shardIds,
        region,
        fn,
        settings,
        checkpoints,
        sendFailure: async (failure) => {
          await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(failure) }));
        },
        log: (line) => log(`[event source] ${line}`),
      });
      // Stopped before the functions (pushed earlier, stopped later), so batches in hand finish.
      stoppers.push(() => mapping.stop());
      mappings[name] = mapping;
    }

    if (config.tables.hotRetentionDays != null) {
      const sweeper: TtlSweeper = startTtlSweeper({ client: dynamo, tables: LOCAL_TABLES, log });
      stoppers.push(() => sweeper.stop());
    }

    // The web app's own client, with its timeouts and bounded retries (not the shared one above).
    const document = createWebDynamoClient({ ...clientConfig, endpoint: dynamoEmulator.endpoint });
    stoppers.push(() => document.destroy());
    const web = buildApp({ repository: createDynamoRepository({ client: document, tables: LOCAL_TABLES }) });
    stoppers.push(() => web.close());
    const webUrl = await listenOn(web, 'web app', host, ports.web);

    // The ingest API opens last and closes first: nothing is acknowledged that the rest cannot take.
    const ingest = buildIngestApi({ kinesis, streamName: DEFAULT_NAMES.stream, apiKey, logError: log });
    stoppers.push(() => ingest.close());
    const ingestBase = await listenOn(ingest, 'ingest API', host, ports.ingest);

    const urls = {
      ingest: `${ingestBase}${INGEST_PATHS.single}`,
      batchIngest: `${ingestBase}${INGEST_PATHS.batch}`,
      web: webUrl,
      dynamodb: dynamoEmulator.endpoint,
      kinesis: kinesisEmulator.endpoint,
      messaging: messaging.endpoint,
    };
    lock.describe(urls);

    return {
      urls,
      apiKey,
      region,
      dataDir,
      tables: LOCAL_TABLES,
      streamName: DEFAULT_NAMES.stream,
      shardCount: stream.shardIds.length,
      alertTopicArn,
      failureQueueUrl,
      alerts: () => messaging.published(),
      failureQueue: () => messaging.queueMessages(LOCAL_DEFAULTS.failureQueue),
      faults: {
        interruptDynamoDB: () => dynamoEmulator.takeDown(),
        restoreDynamoDB: () => dynamoEmulator.bringBack(),
      },
      consumers: () => Object.fromEntries(Object.entries(mappings).map(([name, mapping]) => [name, mapping.stats()])) as Record<HandlerName, MappingStats>,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

/** An alert as the console shows it: what an email subscriber would receive. */
export function formatAlert(message: PublishedMessage): string {
  const rule = '-'.repeat(72);
  return [rule, `ALERT ${message.publishedAt}  ${message.subject ?? '(no subject)'}`, ...message.message.split('\n').map((line) => `  ${line}`), rule].join('\n');
}
