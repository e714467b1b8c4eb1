/**
 * The ingest API of the local platform: the stack's API Gateway REST API served by the
 * API Gateway twin (local/api-gateway), with the API key value the stack gives (or, where
 * AWS would generate one, the local key), in front of the Kinesis emulator.
 */
import { startApiGatewayTwin } from '../api-gateway';
import type { UsageMeter } from '../usage-meter';
import type { LoadedStack } from './load-stack';

export interface IngestOptions {
  readonly stack: LoadedStack;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly kinesisEndpoint: string;
  /** The value of API keys the stack leaves to AWS to generate. */
  readonly apiKeyValue: string;
  /** Where device keys added at run time are kept (the data folder). @default in memory only */
  readonly apiKeysFile?: string;
  readonly log: (line: string) => void;
  /** Counts the API's requests. @default none */
  readonly meter?: Pick<UsageMeter, 'apiRequest'> | undefined;
}

export interface RunningIngest {
  /** `http://host:port`: stage URLs are `<baseUrl>/<stage>`. */
  readonly baseUrl: string;
  /** The value devices send in `x-api-key`. */
  readonly apiKey: string;
  close(): Promise<void>;
}

export async function startIngest(options: IngestOptions): Promise<RunningIngest> {
  const { stack } = options;
  const key = stack.resources('aws_api_gateway_api_key')[0];
  const apiKey = key === undefined ? '' : String(stack.attribute(key.address, 'value'));
  let twin;
  try {
    twin = await startApiGatewayTwin({
      stack,
      host: options.host,
      port: options.port,
      kinesisEndpoint: options.kinesisEndpoint,
      region: stack.region,
      accountId: stack.accountId,
      apiKeyValue: options.apiKeyValue,
      ...(options.apiKeysFile === undefined ? {} : { apiKeysFile: options.apiKeysFile }),
      log: (line) => options.log(`[api-gateway] ${line}`),
      ...(options.meter && { onRequest: () => options.meter?.apiRequest() }),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`the ingest API cannot listen on ${options.host}:${options.port}: the port is in use by another program`);
    throw error;
  }
  return { baseUrl: twin.baseUrl, apiKey, close: () => twin.close() };
}
