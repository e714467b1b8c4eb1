import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration, type S3BucketLifecycleConfigurationRule } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';

export interface PrivateBucketProps {
  /** The bucket name starts with it; S3 adds a unique suffix. */
  readonly namePrefix: string;
  /** KMS key of the default encryption (with an S3 bucket key, so KMS is called per key, not per object). */
  readonly kmsKeyArn: string;
  /** At least one rule: every bucket of the platform says how long its objects live. */
  readonly lifecycleRules: readonly S3BucketLifecycleConfigurationRule[];
}

/**
 * A bucket as the platform keeps every bucket: no public access, ACLs off (the bucket
 * owner owns every object), KMS encryption by default, a policy that refuses requests
 * without TLS, and a lifecycle.
 */
export class PrivateBucket extends Construct {
  public readonly bucketName: string;
  public readonly arn: string;

  constructor(scope: Construct, id: string, props: PrivateBucketProps) {
    super(scope, id);
    if (props.lifecycleRules.length === 0) throw new Error('PrivateBucket: give at least one lifecycle rule');
    const bucket = new S3Bucket(this, 'bucket', { bucketPrefix: `${props.namePrefix}-`, forceDestroy: false });
    new S3BucketPublicAccessBlock(this, 'public-access-block', {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.kmsKeyArn }, bucketKeyEnabled: true }],
    });
    const tlsOnly = new DataAwsIamPolicyDocument(this, 'tls-only', {
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [bucket.arn, `${bucket.arn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    });
    new S3BucketPolicy(this, 'policy', { bucket: bucket.id, policy: tlsOnly.json });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', { bucket: bucket.id, rule: [...props.lifecycleRules] });
    this.bucketName = bucket.bucket;
    this.arn = bucket.arn;
  }
}
