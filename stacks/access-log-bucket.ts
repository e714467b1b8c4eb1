import { Construct } from 'constructs';
import { DataAwsElbServiceAccount } from '@cdktf/provider-aws/lib/data-aws-elb-service-account';
import type { DataAwsIamPolicyDocumentStatementPrincipals } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import type { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { privateBucket } from './private-bucket';

export interface AccessLogBucketProps {
  /** The bucket name starts with it (S3 adds a unique suffix); at most 37 characters. */
  readonly namePrefix: string;
  /** Region of the load balancer: the bucket must be in it, and it decides who delivers the logs. */
  readonly region: string;
  readonly accountId: string;
  /** Days log objects are kept. */
  readonly retentionDays: number;
}

/**
 * Regions opened before August 2022, where a regional Elastic Load Balancing account writes
 * the access logs (the regions `aws_elb_service_account` knows). Newer regions deliver as the
 * service principal `logdelivery.elasticloadbalancing.amazonaws.com`, which the bucket policy
 * admits everywhere. https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
 */
export const REGIONS_WITH_ELB_LOG_ACCOUNT: ReadonlySet<string> = new Set([
  'af-south-1', 'ap-east-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-southeast-1',
  'ap-southeast-2', 'ap-southeast-3', 'ca-central-1', 'cn-north-1', 'cn-northwest-1', 'eu-central-1', 'eu-north-1',
  'eu-south-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'me-south-1', 'sa-east-1', 'us-east-1', 'us-east-2',
  'us-gov-east-1', 'us-gov-west-1', 'us-west-1', 'us-west-2',
]);

/**
 * The load balancer's access log bucket: private, TLS-only, encrypted with S3-managed keys
 * (the only encryption load balancer log delivery supports), objects expired after the
 * retention. The load balancer must wait for `policy` before it turns logging on.
 */
export class AccessLogBucket extends Construct {
  public readonly bucketName: string;
  public readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: AccessLogBucketProps) {
    super(scope, id);
    const deliverers: DataAwsIamPolicyDocumentStatementPrincipals[] = [
      { type: 'Service', identifiers: ['logdelivery.elasticloadbalancing.amazonaws.com'] },
    ];
    if (REGIONS_WITH_ELB_LOG_ACCOUNT.has(props.region)) {
      deliverers.push({ type: 'AWS', identifiers: [new DataAwsElbServiceAccount(this, 'elb-log-account', {}).arn] });
    }
    const { bucket, policy } = privateBucket(this, {
      namePrefix: props.namePrefix,
      encryption: 'S3-managed',
      lifecycle: [
        {
          id: 'expire-access-logs',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          expiration: [{ days: props.retentionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
      grants: (bucketArn) => [
        { sid: 'LoadBalancerWritesAccessLogs', effect: 'Allow', principals: deliverers, actions: ['s3:PutObject'], resources: [`${bucketArn}/AWSLogs/${props.accountId}/*`] },
      ],
    });
    this.policy = policy;
    this.bucketName = bucket.bucket;
  }
}
