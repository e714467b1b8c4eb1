import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchLogMetricFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter';
import type { PackagedHandler } from '../build/handler-bundle';
import { packagedFunction } from './packaged-function';
import { AT_LEAST_ONCE, notifyingAlarm } from './alarm';
import { PropsError } from './input-error';
import { ServiceRole } from './service-role';

export interface ArchiveProcessorProps {
  /** The function is `<namePrefix>-archive-flatten`. */
  readonly namePrefix: string;
  /** The `archive-flatten` bundle (build/handler-bundle.ts `packageHandler`). */
  readonly package: PackagedHandler;
  readonly logRetentionDays: number;
  /** What the alarms notify when they fire and recover (the operations topic). */
  readonly alarmActions: readonly string[];
  /** @default ARCHIVE_PROCESSOR_DEFAULTS.memoryMiB */
  readonly memoryMiB?: number;
  /** Firehose gives a processor at most 5 minutes. @default ARCHIVE_PROCESSOR_DEFAULTS.timeoutSeconds */
  readonly timeoutSeconds?: number;
}

export const ARCHIVE_PROCESSOR_DEFAULTS = { memoryMiB: 256, timeoutSeconds: 60 } as const;
/** Firehose waits at most this long for a transformation Lambda (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html). */
const FIREHOSE_PROCESSOR_TIMEOUT_LIMIT_SECONDS = 300;

/** Where the failed-records metric lives; handlers/archive-flatten.ts logs `failedRecords`. */
export const ARCHIVE_FAILURE_METRIC = { namespace: 'IotPlatform/Archive', name: 'RecordsFailedProcessing' } as const;

/**
 * The Lambda function Firehose calls to turn stream records into archive lines
 * (handlers/archive-flatten.ts), with its own role (logs only: Firehose passes the data
 * in and takes the answer back), log group, and alarms on errors, throttles and on records
 * it returned as failed (counted from its logs by a metric filter).
 */
export class ArchiveProcessor extends Construct {
  public readonly functionArn: string;
  public readonly functionName: string;
  /** ARNs of its alarms, for the operations dashboard. */
  public readonly alarmArns: string[];

  constructor(scope: Construct, id: string, props: ArchiveProcessorProps) {
    super(scope, id);
    const timeoutSeconds = props.timeoutSeconds ?? ARCHIVE_PROCESSOR_DEFAULTS.timeoutSeconds;
    if (timeoutSeconds < 1 || timeoutSeconds > FIREHOSE_PROCESSOR_TIMEOUT_LIMIT_SECONDS) {
      throw new PropsError('ArchiveProcessor', [{ field: 'timeoutSeconds', message: `must be 1 to ${FIREHOSE_PROCESSOR_TIMEOUT_LIMIT_SECONDS} (Firehose's limit), got ${timeoutSeconds}` }]);
    }
    const functionName = `${props.namePrefix}-archive-flatten`;
    const logGroup = new CloudwatchLogGroup(this, 'logs', { name: `/aws/lambda/${functionName}`, retentionInDays: props.logRetentionDays });
    const role = new ServiceRole(this, 'role', {
      roleName: functionName,
      service: 'lambda.amazonaws.com',
      description: `Runs ${functionName}`,
      grants: [{ sid: 'WriteLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.arn}:*`] }],
    });
    const fn = packagedFunction(this, {
      ids: { code: 'code', function: 'function' },
      functionName,
      description: 'Turns each archived stream record into one JSON line per metric for SQL (Athena, DuckDB)',
      package: props.package,
      role,
      logGroup,
      memorySize: props.memoryMiB ?? ARCHIVE_PROCESSOR_DEFAULTS.memoryMiB,
      timeout: timeoutSeconds,
      variables: { POWERTOOLS_SERVICE_NAME: 'archive-flatten' },
    });

    new CloudwatchLogMetricFilter(this, 'failed-records', {
      name: `${functionName}-failed-records`,
      logGroupName: logGroup.name,
      pattern: '{ $.failedRecords > 0 }',
      metricTransformation: { namespace: ARCHIVE_FAILURE_METRIC.namespace, name: ARCHIVE_FAILURE_METRIC.name, value: '$.failedRecords', unit: 'Count' },
    });
    const alarm = (alarmId: string, suffix: string, description: string, metric: { namespace: string; metricName: string; dimensions?: Record<string, string> }) =>
      notifyingAlarm(this, alarmId, { alarmName: `${functionName}-${suffix}`, alarmDescription: description, ...metric, ...AT_LEAST_ONCE }, props.alarmActions).arn;
    const lambdaMetric = (metricName: string) => ({ namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: fn.functionName } });
    this.alarmArns = [
      alarm('errors-alarm', 'errors', 'The archive processor failed whole invocations: Firehose retries, then writes the batch under processing-failed/', lambdaMetric('Errors')),
      alarm('throttles-alarm', 'throttles', 'The archive processor was throttled (concurrency limit): archiving is delayed', lambdaMetric('Throttles')),
      alarm('failed-records-alarm', 'failed-records', 'Stream records could not be archived for SQL: they wait under processing-failed/ in the archive bucket', {
        namespace: ARCHIVE_FAILURE_METRIC.namespace,
        metricName: ARCHIVE_FAILURE_METRIC.name,
      }),
    ];

    this.functionArn = fn.arn;
    this.functionName = fn.functionName;
  }
}
