import { Construct } from 'constructs';

export interface OperationsProps {
  /** Prefix of alarm, topic and dashboard names. */
  readonly namePrefix: string;
  /** Region shown by the dashboard's metric widgets. */
  readonly region: string;
  /** Each address gets an email subscription to the operations topic (it must confirm it). */
  readonly notificationEmails: readonly string[];
  readonly streamName: string;
  /** Lambda consumers of the stream: Errors and Throttles alarms for each. */
  readonly consumerFunctionNames: readonly string[];
  /** The consumers' on-failure queue: alarm as soon as a message is visible. */
  readonly failureQueueName: string;
  /** REST API name and stage (dimensions of the 5XXError metric). */
  readonly apiName: string;
  readonly apiStageName: string;
  /** DynamoDB tables: throttle alarm for each. */
  readonly tableNames: readonly string[];
  /** Oldest unread record age that raises the alarm, ms. @default 60000 */
  readonly iteratorAgeThresholdMs?: number;
  /**
   * KMS key encrypting the operations topic; its policy must let cloudwatch.amazonaws.com
   * use it (kms:Decrypt, kms:GenerateDataKey). @default a new key with that policy
   */
  readonly kmsKeyArn?: string;
  /** The web load balancer (dimension LoadBalancer): 5XX alarm and dashboard widgets. @default none */
  readonly loadBalancerArnSuffix?: string;
  /** The web target group (dimension TargetGroup; needs loadBalancerArnSuffix): healthy-host alarm. @default none */
  readonly targetGroupArnSuffix?: string;
}

/** Operations topic, alarms on every pipeline stage, and a dashboard of the pipeline. */
export class Operations extends Construct {
  public readonly topicArn: string;
  public readonly dashboardName: string;
  public readonly alarmNames: string[];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    void props;
    throw new Error('Operations: implementation in progress (skeleton commit for the stack author).');
  }
}
