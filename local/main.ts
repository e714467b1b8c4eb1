/**
 * `npm start`: the local platform in the foreground until Ctrl-C, built from the
 * synthesized pipeline stack (synthesized first unless nothing changed, or `--no-synth`).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { SYNTH_OUTDIR } from '../stacks/output-names';
import { DEFAULT_PORTS, LOCAL_DEFAULTS, type LocalPorts } from './defaults';
import { PlatformAlreadyRunningError } from './instance-lock';
import { startLocalPlatform, type LocalPlatform } from './platform';
import { coverageLine } from './twin/coverage';
import { TwinResolutionError } from './twin/stack';
import { stackFileIn, SynthError } from './twin/synth';
import { PROJECT_ROOT } from '../build/project-root';

function port(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65_535) throw new InvalidArgumentError('a TCP port from 0 (any free port) to 65535');
  return value;
}

/** Seconds between runs of every schedule, to see minute-long schedules act sooner. */
function scheduleSeconds(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 86_400) throw new InvalidArgumentError('whole seconds from 1 to 86400');
  return value;
}

/** Firehose's buffering interval range. https://docs.aws.amazon.com/firehose/latest/APIReference/API_BufferingHints.html */
function bufferSeconds(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 900) throw new InvalidArgumentError('whole seconds from 0 to 900');
  return value;
}

interface CliOptions {
  readonly dataDir: string;
  readonly clean: boolean;
  readonly apiKey: string;
  readonly synth: boolean;
  readonly stackFile?: string;
  readonly archiveBufferSeconds?: number;
  readonly scheduleIntervalSeconds?: number;
  readonly ingestPort: number;
  readonly webPort?: number;
  readonly dynamodbPort: number;
  readonly kinesisPort: number;
  readonly messagingPort: number;
  readonly handlerLogLevel: string;
}

function banner(platform: LocalPlatform, startedInMs: number, options: Pick<CliOptions, 'scheduleIntervalSeconds'>): string {
  const { urls } = platform;
  return [
    '',
    `Local IoT platform ready in ${(startedInMs / 1000).toFixed(1)} s (data in ${platform.dataDir})`,
    `  Twin of ${path.relative(process.cwd(), platform.stackFile) || platform.stackFile}: ${coverageLine(platform.coverage)}`,
    '',
    `  Dashboard       ${urls.web}`,
    `  Ingest (PUT)    ${urls.ingest}`,
    `  Batch (POST)    ${urls.batchIngest}`,
    `  API key         ${platform.apiKey}   (header x-api-key)`,
    '',
    `  DynamoDB        ${urls.dynamodb}   tables ${Object.values(platform.tables).join(', ')}`,
    `  Kinesis         ${urls.kinesis}   stream ${platform.streamName} (${platform.shardCount} shards)`,
    `  SNS/SQS         ${urls.messaging}   alerts and failure queue: GET ${urls.messaging}/`,
    ...platform.subscriptions.map((subscription) => `  Subscribed      ${subscription.endpoint} (${subscription.protocol}) to ${subscription.topicArn.split(':').pop()} (what it would receive is shown below, not sent)`),
    ...Object.keys(platform.schedules()).map((name) => `  Schedule        ${name}${options.scheduleIntervalSeconds === undefined ? '' : ` every ${options.scheduleIntervalSeconds} s (--schedule-interval-seconds)`}`),
    `  Archive         ${platform.archiveDir}`,
    `  Region          ${platform.region}`,
    '',
    'Try it:',
    `  curl -X PUT ${urls.ingest} -H 'x-api-key: ${platform.apiKey}' -H 'content-type: application/json' \\`,
    `    -d '{"Data":{"id":"things/harrow/001","temperature":"19.57","timestamp":"${new Date().toISOString()}"}}'`,
    '  npm run simulate -- --things 5 --rate 20 --duration 30',
    '  npm run system-test',
    '',
    'Alerts appear below. Ctrl-C stops the platform; its data stays for the next start (--clean starts empty).',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const program = new Command('npm start --')
    .description('Run the synthesized pipeline stack on this machine, every resource emulated or listed as control-plane only.')
    .option('--data-dir <dir>', 'folder for data, checkpoints, functions and the archive', LOCAL_DEFAULTS.dataDir)
    .option('--clean', 'start with empty tables, stream, queues and archive', false)
    .option('--no-synth', `run ${path.join(SYNTH_OUTDIR, 'stacks', 'pipeline', 'cdk.tf.json')} exactly as it is (edits included) instead of synthesizing first`)
    .option('--stack-file <file>', 'run this synthesized pipeline stack (cdk.tf.json) as it is; implies --no-synth')
    .addOption(new Option('--archive-buffer-seconds <seconds>', "write the archive after this many seconds of buffering instead of the delivery stream's interval").argParser(bufferSeconds))
    .addOption(new Option('--schedule-interval-seconds <seconds>', 'run every EventBridge schedule (the no-data check) this often instead of its expression').argParser(scheduleSeconds))
    .option('--api-key <key>', 'value of the ingest API key when the stack leaves it to AWS to generate', LOCAL_DEFAULTS.apiKey)
    .addOption(new Option('--ingest-port <port>', 'ingest API port').argParser(port).default(DEFAULT_PORTS.ingest))
    .addOption(new Option('--web-port <port>', "dashboard port (default: the web container's port in the task definition)").argParser(port))
    .addOption(new Option('--dynamodb-port <port>', 'DynamoDB emulator port').argParser(port).default(DEFAULT_PORTS.dynamodb))
    .addOption(new Option('--kinesis-port <port>', 'Kinesis emulator port').argParser(port).default(DEFAULT_PORTS.kinesis))
    .addOption(new Option('--messaging-port <port>', 'SNS/SQS endpoint port').argParser(port).default(DEFAULT_PORTS.messaging))
    .addOption(new Option('--handler-log-level <level>', 'log level of the Lambda handlers').choices(['DEBUG', 'INFO', 'WARN', 'ERROR']).default(LOCAL_DEFAULTS.handlerLogLevel))
    .parse();
  const options = program.opts<CliOptions>();
  const ports: Partial<LocalPorts> = {
    ingest: options.ingestPort,
    ...(options.webPort === undefined ? {} : { web: options.webPort }),
    dynamodb: options.dynamodbPort,
    kinesis: options.kinesisPort,
    messaging: options.messagingPort,
  };
  const stackFile = options.stackFile ?? (options.synth ? undefined : stackFileIn(path.join(PROJECT_ROOT, SYNTH_OUTDIR), 'pipeline'));
  if (stackFile !== undefined && !existsSync(stackFile)) {
    console.error(`There is no synthesized stack at ${stackFile}: run \`npm run synth\` first, or start without --no-synth to synthesize it.`);
    process.exit(1);
  }

  const started = Date.now();
  let platform: LocalPlatform;
  try {
    platform = await startLocalPlatform({
      dataDir: options.dataDir,
      clean: options.clean,
      apiKey: options.apiKey,
      ports,
      handlerLogLevel: options.handlerLogLevel,
      ...(stackFile === undefined ? {} : { stackFile }),
      ...(options.archiveBufferSeconds === undefined ? {} : { archiveBufferSeconds: options.archiveBufferSeconds }),
      ...(options.scheduleIntervalSeconds === undefined ? {} : { scheduleIntervalSeconds: options.scheduleIntervalSeconds }),
    });
  } catch (error) {
    if (error instanceof PlatformAlreadyRunningError || error instanceof SynthError || error instanceof TwinResolutionError) console.error(error.message);
    else console.error(`The local platform could not start: ${(error as Error).message}`);
    process.exit(1);
  }
  console.log(banner(platform, Date.now() - started, options));

  let stopping = false;
  const stop = () => {
    if (stopping) {
      console.log('Stopping at once: batches in hand are read again from the stream at the next start.');
      process.exit(130);
    }
    stopping = true;
    console.log('\nStopping: no new readings are taken; the consumers finish the batches in hand and the archive writes what it buffers (Ctrl-C again to force)...');
    platform
      .stop()
      .then(() => {
        console.log('Stopped. Every acknowledged reading is stored, or still in the stream for the next start.');
        process.exit(0);
      })
      .catch((error: unknown) => {
        console.error((error as Error).message);
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
