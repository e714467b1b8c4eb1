import type { Construct } from 'constructs';
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration, type S3BucketLifecycleConfigurationRule } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';

/** The statement that refuses every request to `resources` made without TLS, whoever makes it. */
export function denyInsecureTransport(service: 's3' | 'sqs', resources: readonly string[]): DataAwsIamPolicyDocumentStatement {
  return {
    sid: 'DenyInsecureTransport',
    effect: 'Deny',
    principals: [{ type: '*', identifiers: ['*'] }],
    actions: [`${service}:*`],
    resources: [...resources],
    condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
  };
}

export interface PrivateBucketProps {
  /** The bucket name starts with it (S3 adds a unique suffix); at most 37 characters. */
  readonly namePrefix: string;
  /** KMS key of the objects, or S3-managed keys (the only ones some delivering services support). */
  readonly encryption: { readonly kmsKeyArn: string } | 'S3-managed';
  readonly lifecycle: S3BucketLifecycleConfigurationRule[];
  /** Provider 6 defaults to all_storage_classes_128K (no transition below 128 KB). @default the provider's default */
  readonly transitionDefaultMinimumObjectSize?: string;
  /** Grants in the bucket policy beside the TLS-only denial, given the bucket's ARN. @default none */
  readonly grants?: (bucketArn: string) => DataAwsIamPolicyDocumentStatement[];
}

/**
 * A private bucket in `scope`: public access blocked, objects owned by the bucket owner,
 * encrypted by default, TLS-only, with a lifecycle. Its resources are children of `scope`
 * (`bucket`, `policy`, ...), so the constructs using it keep their own addresses.
 */
export function privateBucket(scope: Construct, props: PrivateBucketProps): { bucket: S3Bucket; policy: S3BucketPolicy } {
  const bucket = new S3Bucket(scope, 'bucket', { bucketPrefix: `${props.namePrefix}-`, forceDestroy: false });
  new S3BucketPublicAccessBlock(scope, 'public-access-block', {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  new S3BucketOwnershipControls(scope, 'ownership', { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
  new S3BucketServerSideEncryptionConfigurationA(scope, 'encryption', {
    bucket: bucket.id,
    rule: [
      props.encryption === 'S3-managed'
        ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }
        : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.encryption.kmsKeyArn }, bucketKeyEnabled: true },
    ],
  });
  const document = new DataAwsIamPolicyDocument(scope, 'tls-only', {
    statement: [denyInsecureTransport('s3', [bucket.arn, `${bucket.arn}/*`]), ...(props.grants?.(bucket.arn) ?? [])],
  });
  const policy = new S3BucketPolicy(scope, 'policy', { bucket: bucket.id, policy: document.json });
  new S3BucketLifecycleConfiguration(scope, 'lifecycle', {
    bucket: bucket.id,
    transitionDefaultMinimumObjectSize: props.transitionDefaultMinimumObjectSize,
    rule: props.lifecycle,
  });
  return { bucket, policy };
}
