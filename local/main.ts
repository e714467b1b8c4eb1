/**
 * `npm start`: the local platform in the foreground until Ctrl-C.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../stacks/config';
import { PlatformAlreadyRunningError } from './instance-lock';
import { DEFAULT_PORTS, LOCAL_DEFAULTS, type LocalPorts } from './defaults';
import { startLocalPlatform, type LocalPlatform } from './platform';

function port(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65_535) throw new InvalidArgumentError('a TCP port from 0 (any free port) to 65535');
  return value;
}

interface CliOptions {
  readonly dataDir: string;
  readonly clean: boolean;
  readonly apiKey: string;
  readonly ingestPort: number;
  readonly webPort: number;
  readonly dynamodbPort: number;
  readonly kinesisPort: number;
  readonly messagingPort: number;
  readonly handlerLogLevel: string;
}

function banner(platform: LocalPlatform, startedInMs: number): string {
  const { urls } = platform;
  return [
    '',
    `Local IoT platform ready in ${(startedInMs / 1000).toFixed(1)} s (data in ${platform.dataDir})`,
    '',
    `  Dashboard       ${urls.web}`,
    `  Ingest (PUT)    ${urls.ingest}`,
    `  Batch (POST)    ${urls.batchIngest}`,
    `  API key         ${platform.apiKey}   (header x-api-key)`,
    '',
    `  DynamoDB        ${urls.dynamodb}   tables ${Object.values(platform.tables).join(', ')}`,
    `  Kinesis         ${urls.kinesis}   stream ${platform.streamName} (${platform.shardCount} shards)`,
    `  SNS/SQS         ${urls.messaging}   alerts and failure queue: GET ${urls.messaging}/`,
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
    .description('Run the whole IoT platform on this machine with embedded emulators (SPEC §4).')
    .option('--data-dir <dir>', 'folder for data, checkpoints and bundles', LOCAL_DEFAULTS.dataDir)
    .option('--clean', 'start with empty tables, stream and queues', false)
    .option('--api-key <key>', 'API key the ingest endpoint requires', LOCAL_DEFAULTS.apiKey)
    .addOption(new Option('--ingest-port <port>', 'ingest API port').argParser(port).default(DEFAULT_PORTS.ingest))
    .addOption(new Option('--web-port <port>', 'dashboard port').argParser(port).default(DEFAULT_PORTS.web))
    .addOption(new Option('--dynamodb-port <port>', 'DynamoDB emulator port').argParser(port).default(DEFAULT_PORTS.dynamodb))
    .addOption(new Option('--kinesis-port <port>', 'Kinesis emulator port').argParser(port).default(DEFAULT_PORTS.kinesis))
    .addOption(new Option('--messaging-port <port>', 'SNS/SQS endpoint port').argParser(port).default(DEFAULT_PORTS.messaging))
    .addOption(new Option('--handler-log-level <level>', 'log level of the Lambda handlers').choices(['DEBUG', 'INFO', 'WARN', 'ERROR']).default(LOCAL_DEFAULTS.handlerLogLevel))
    .parse();
  const options = program.opts<CliOptions>();
  const ports: LocalPorts = {
    ingest: options.ingestPort,
    web: options.webPort,
    dynamodb: options.dynamodbPort,
    kinesis: options.kinesisPort,
    messaging: options.messagingPort,
  };

  const started = Date.now();
  let platform: LocalPlatform;
  try {
    platform = await startLocalPlatform({ dataDir: options.dataDir, clean: options.clean, apiKey: options.apiKey, ports, handlerLogLevel: options.handlerLogLevel });
  } catch (error) {
    if (error instanceof PlatformAlreadyRunningError || error instanceof ConfigError) console.error(error.message);
    else console.error(`The local platform could not start: ${(error as Error).message}`);
    process.exit(1);
  }
  console.log(banner(platform, Date.now() - started));

  let stopping = false;
  const stop = () => {
    if (stopping) {
      console.log('Stopping at once: batches in hand are read again from the stream at the next start.');
      process.exit(130);
    }
    stopping = true;
    console.log('\nStopping: no new readings are taken; the consumers finish the batches in hand (Ctrl-C again to force)...');
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
