import { Construct } from 'constructs';
import { KinesisStream } from '@cdktf/provider-aws/lib/kinesis-stream';
import { FALLING_BEHIND, notifyingAlarm } from './alarm';
import { ITERATOR_AGE_ALARM_MS, READING_STREAM_LIMITS } from './construct-defaults';
export { ITERATOR_AGE_ALARM_MS, READING_STREAM_LIMITS } from './construct-defaults';

export interface ReadingStreamProps {
  readonly name: string;
  /** KMS key the stream encrypts records with. */
  readonly kmsKeyArn: string;
  /** @default 'provisioned' */
  readonly mode?: 'provisioned' | 'on-demand';
  /** Shards in provisioned mode (1 MB/s or 1,000 records/s in each); ignored on demand. @default READING_STREAM_LIMITS.shardCount.default */
  readonly shardCount?: number;
  /** @default READING_STREAM_LIMITS.retentionHours.default */
  readonly retentionHours?: number;
  /** Notified when readers fall behind, and on recovery. */
  readonly alarmActions: readonly string[];
}



/** The Kinesis stream readings flow through (one series always on one shard: see the batch template), encrypted with KMS, with an alarm when its readers fall behind. */
export class ReadingStream extends Construct {
  public readonly name: string;
  public readonly arn: string;
  public readonly alarmArns: string[];

  constructor(scope: Construct, id: string, props: ReadingStreamProps) {
    super(scope, id);
    const onDemand = props.mode === 'on-demand';
    const stream = new KinesisStream(this, 'stream', {
      name: props.name,
      streamModeDetails: { streamMode: onDemand ? 'ON_DEMAND' : 'PROVISIONED' },
      shardCount: onDemand ? undefined : (props.shardCount ?? READING_STREAM_LIMITS.shardCount.default),
      retentionPeriod: props.retentionHours ?? READING_STREAM_LIMITS.retentionHours.default,
      encryptionType: 'KMS',
      kmsKeyId: props.kmsKeyArn,
    });
    const iteratorAge = notifyingAlarm(this, 'iterator-age-alarm', {
      alarmName: `${props.name}-iterator-age`,
      alarmDescription: `Consumers fall behind: the oldest unread record is older than ${ITERATOR_AGE_ALARM_MS} ms`,
      namespace: 'AWS/Kinesis',
      metricName: 'GetRecords.IteratorAgeMilliseconds',
      dimensions: { StreamName: stream.name },
      ...FALLING_BEHIND,
    }, props.alarmActions);
    this.name = stream.name;
    this.arn = stream.arn;
    this.alarmArns = [iteratorAge.arn];
  }
}
