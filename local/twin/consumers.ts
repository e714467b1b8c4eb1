/**
 * The stack's Lambda functions and the event source mappings that feed them, started on
 * the local runtime: each function from its resource (functions.ts), each mapping from
 * its resource (mappings.ts), its failures sent to the queue or topic the stack names.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CheckpointStore } from '../checkpoints';
import { LOCAL_CREDENTIALS } from '../defaults';
import { startEventSourceMapping, type EventSourceMapping } from '../event-source-mapping';
import { startLocalFunction, type RunningFunction } from '../lambda-runtime';
import type { UsageMeter } from '../usage-meter';
import { streamOf, type StreamsByArn } from './data-stores';
import { functionSpec, lambdaEnvironment, unpackFunction, type FunctionSpec } from './functions';
import type { LoadedStack } from './load-stack';
import { mappingSpec } from './mappings';
import { TwinResolutionError } from './stack';

export interface ConsumersOptions {
  readonly stack: LoadedStack;
  /** Where function code is unpacked. */
  readonly functionsDir: string;
  /** The local runtime's worker script. */
  readonly workerFile: string;
  readonly kinesis: KinesisClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly streams: StreamsByArn;
  readonly checkpoints: CheckpointStore;
  /** `AWS_ENDPOINT_URL_<SERVICE>` → local endpoint, for the functions' SDK clients. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Stands in for the functions' `logging_config.application_log_level`. */
  readonly applicationLogLevel?: string;
  readonly log: (line: string) => void;
  /** Receives what stops each thing started, in start order. */
  readonly started: (stop: () => Promise<void>) => void;
  /** Counts each function's invocations and their duration. @default none */
  readonly meter?: Pick<UsageMeter, 'lambdaInvocation'> | undefined;
}

export interface StartedConsumers {
  /** Each enabled mapping, by the name of the function it feeds. */
  readonly mappings: Record<string, EventSourceMapping>;
  /** Every function of the stack, by ARN (for what else invokes them: schedules). */
  readonly functions: ReadonlyMap<string, RunningFunction>;
}

/** Starts every function and every enabled mapping. */
export function startConsumers(options: ConsumersOptions): StartedConsumers {
  const { stack, log } = options;
  const functions: { spec: FunctionSpec; fn: RunningFunction }[] = stack.resources('aws_lambda_function').map((resource) => {
    const spec = functionSpec(stack, resource);
    const codeDir = unpackFunction(spec, options.functionsDir);
    const env = lambdaEnvironment(spec, codeDir, {
      region: stack.region,
      credentials: LOCAL_CREDENTIALS,
      endpoints: options.endpoints,
      ...(options.applicationLogLevel === undefined ? {} : { applicationLogLevel: options.applicationLogLevel }),
    });
    const running = startLocalFunction({ ...spec, codeDir, workerFile: options.workerFile, env, onLog: (line) => log(`[${spec.name}] ${line}`) });
    const fn = options.meter === undefined ? running : metered(running, spec.memoryMiB, options.meter);
    options.started(() => fn.stop());
    return { spec, fn };
  });

  const mappings: Record<string, EventSourceMapping> = {};
  for (const resource of stack.resources('aws_lambda_event_source_mapping')) {
    const spec = mappingSpec(resource);
    const target = functions.find(({ spec: fn }) => fn.arn === spec.functionName || fn.name === spec.functionName);
    if (target === undefined) throw new TwinResolutionError(`${resource.address} invokes ${spec.functionName}, which is not a function of the stack`, resource.address, 'function_name');
    if (!spec.enabled) continue;
    if (spec.parallelizationFactor > 1) log(`note: ${resource.address} has a parallelization factor of ${spec.parallelizationFactor}; locally each shard runs one batch at a time`);
    const stream = streamOf(options.streams, spec.sourceArn, resource.address);
    const send = spec.onFailureArn === undefined ? undefined : destination(options, spec.onFailureArn, resource.address);
    const mapping = startEventSourceMapping({
      kinesis: options.kinesis,
      streamName: stream.name,
      streamArn: spec.sourceArn,
      shardIds: stream.info.shardIds,
      region: stack.region,
      fn: target.fn,
      roleArn: target.spec.roleArn,
      settings: spec.settings,
      checkpoints: options.checkpoints,
      // Without a destination, records given up on are only counted, as Lambda drops them.
      sendFailure: async (failure) => void (await send?.(JSON.stringify(failure))),
      log: (line) => log(`[event source] ${line}`),
    });
    // Stopped before the functions (started later), so batches in hand finish.
    options.started(() => mapping.stop());
    mappings[target.spec.name] = mapping;
  }
  return { mappings, functions: new Map(functions.map(({ spec, fn }) => [spec.arn, fn])) };
}

/** The function, with each invocation's duration counted against its configured memory. */
function metered(fn: RunningFunction, memoryMiB: number, meter: Pick<UsageMeter, 'lambdaInvocation'>): RunningFunction {
  return {
    ...fn,
    async invoke(event) {
      const started = performance.now();
      try {
        return await fn.invoke(event);
      } finally {
        meter.lambdaInvocation(fn.name, memoryMiB, performance.now() - started);
      }
    },
    stop: () => fn.stop(),
  };
}

/** Sends to the on-failure destination: a queue or a topic of the stack, by its ARN. */
function destination(options: ConsumersOptions, arn: string, address: string): (body: string) => Promise<unknown> {
  const { stack } = options;
  const queue = stack.resources('aws_sqs_queue').find((candidate) => stack.attribute(candidate.address, 'arn') === arn);
  if (queue !== undefined) return (body) => options.sqs.send(new SendMessageCommand({ QueueUrl: String(stack.attribute(queue.address, 'url')), MessageBody: body }));
  if (stack.resources('aws_sns_topic').some((topic) => stack.attribute(topic.address, 'arn') === arn)) return (body) => options.sns.send(new PublishCommand({ TopicArn: arn, Message: body }));
  throw new TwinResolutionError(`${address} sends failures to ${arn}, which is neither a queue nor a topic of the stack`, address, 'destination_config');
}

