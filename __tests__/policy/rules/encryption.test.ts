import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { EbsVolume } from '@cdktf/provider-aws/lib/ebs-volume';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { KinesisStream } from '@cdktf/provider-aws/lib/kinesis-stream';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { TerraformStack } from 'cdktf';
import { check, expectClean, expectViolations } from '../harness';
import { document } from '../fixtures';

const key = { name: 'ThingID', type: 'S' };

describe('ENC-001 stream encryption', () => {
  it('fires on an unencrypted stream and on KMS without a key', () => {
    const report = check((stack) => {
      new KinesisStream(stack, 'plain', { name: 'plain', shardCount: 2 });
      new KinesisStream(stack, 'keyless', { name: 'keyless', shardCount: 2, encryptionType: 'KMS' });
    });
    expectViolations(report, 'ENC-001', ['aws_kinesis_stream.plain', 'aws_kinesis_stream.keyless']);
  });

  it('stays silent on a KMS-encrypted stream', () => {
    const report = check((stack) => new KinesisStream(stack, 's', { name: 's', shardCount: 2, encryptionType: 'KMS', kmsKeyId: 'alias/aws/kinesis' }));
    expectClean(report, 'ENC-001');
  });
});

describe('ENC-002 table encryption', () => {
  it('fires on a table left on the AWS-owned default key', () => {
    const report = check((stack) => new DynamodbTable(stack, 't', { name: 't', hashKey: 'ThingID', attribute: [key] }));
    expectViolations(report, 'ENC-002', ['aws_dynamodb_table.t']);
  });

  it('stays silent on KMS server-side encryption', () => {
    const report = check((stack) => new DynamodbTable(stack, 't', { name: 't', hashKey: 'ThingID', attribute: [key], serverSideEncryption: { enabled: true } }));
    expectClean(report, 'ENC-002');
  });
});

describe('ENC-003 topic encryption', () => {
  it('fires on a topic without a KMS key', () => {
    expectViolations(check((stack) => new SnsTopic(stack, 't', { name: 't' })), 'ENC-003', ['aws_sns_topic.t']);
  });

  it('stays silent on a KMS-encrypted topic', () => {
    expectClean(check((stack) => new SnsTopic(stack, 't', { name: 't', kmsMasterKeyId: 'alias/aws/sns' })), 'ENC-003');
  });
});

describe('ENC-004 queue encryption', () => {
  it('fires on a queue with neither KMS nor SQS-managed encryption stated', () => {
    expectViolations(check((stack) => new SqsQueue(stack, 'q', { name: 'q' })), 'ENC-004', ['aws_sqs_queue.q']);
  });

  it('stays silent on KMS or SQS-managed encryption', () => {
    const report = check((stack) => {
      new SqsQueue(stack, 'kms', { name: 'kms', kmsMasterKeyId: 'alias/aws/sqs' });
      new SqsQueue(stack, 'managed', { name: 'managed', sqsManagedSseEnabled: true });
    });
    expectClean(report, 'ENC-004');
  });
});

/** A bucket with everything the S3 rules ask for; `omit` leaves one piece out. */
function bucket(stack: TerraformStack, id: string, omit?: 'encryption' | 'policy' | 'public-access' | 'object-arn' | 'condition'): S3Bucket {
  const b = new S3Bucket(stack, id, { bucket: `iot-${id}` });
  if (omit !== 'encryption') {
    new S3BucketServerSideEncryptionConfigurationA(stack, `${id}-sse`, {
      bucket: b.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms' } }],
    });
  }
  if (omit !== 'public-access') {
    new S3BucketPublicAccessBlock(stack, `${id}-public`, { bucket: b.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
  }
  if (omit !== 'policy') {
    const tlsOnly = document(stack, `${id}-tls`, [{
      sid: 'DenyInsecureTransport',
      effect: 'Deny',
      actions: ['s3:*'],
      principals: [{ type: '*', identifiers: ['*'] }],
      resources: omit === 'object-arn' ? [b.arn] : [b.arn, `${b.arn}/*`],
      condition: omit === 'condition' ? [] : [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
    }]);
    new S3BucketPolicy(stack, `${id}-policy`, { bucket: b.id, policy: tlsOnly.json });
  }
  return b;
}

describe('ENC-005 bucket encryption', () => {
  it('fires on a bucket no encryption configuration refers to', () => {
    const report = check((stack) => {
      bucket(stack, 'archive', 'encryption');
      bucket(stack, 'other');
    });
    expectViolations(report, 'ENC-005', ['aws_s3_bucket.archive']);
  });

  it('stays silent when an encryption configuration refers to the bucket', () => {
    expectClean(check((stack) => bucket(stack, 'archive')), 'ENC-005');
  });
});

describe('ENC-006 repository encryption', () => {
  it('fires on a repository that does not state its encryption', () => {
    expectViolations(check((stack) => new EcrRepository(stack, 'r', { name: 'web' })), 'ENC-006', ['aws_ecr_repository.r']);
  });

  it('stays silent on KMS or AES256', () => {
    const report = check((stack) => {
      new EcrRepository(stack, 'kms', { name: 'kms', encryptionConfiguration: [{ encryptionType: 'KMS' }] });
      new EcrRepository(stack, 'aes', { name: 'aes', encryptionConfiguration: [{ encryptionType: 'AES256' }] });
    });
    expectClean(report, 'ENC-006');
  });
});

describe('ENC-007 volume encryption', () => {
  it('fires on a launch template without an encrypted root mapping, an unencrypted instance root and EBS volume', () => {
    const report = check((stack) => {
      new LaunchTemplate(stack, 'implicit-root', { name: 'a', metadataOptions: { httpTokens: 'required' } });
      new LaunchTemplate(stack, 'plain-root', { name: 'b', blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 30 } }] });
      new Instance(stack, 'instance', { ami: 'ami-1', instanceType: 't3.micro' });
      new EbsVolume(stack, 'volume', { availabilityZone: 'eu-west-2a', size: 10 });
    });
    expectViolations(report, 'ENC-007', ['aws_launch_template.implicit-root', 'aws_launch_template.plain-root', 'aws_instance.instance', 'aws_ebs_volume.volume']);
  });

  it('stays silent on encrypted volumes', () => {
    const report = check((stack) => {
      new LaunchTemplate(stack, 'lt', { name: 'a', blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { encrypted: 'true', volumeSize: 30 } }] });
      new Instance(stack, 'instance', { ami: 'ami-1', instanceType: 't3.micro', rootBlockDevice: { encrypted: true } });
      new EbsVolume(stack, 'volume', { availabilityZone: 'eu-west-2a', size: 10, encrypted: true });
    });
    expectClean(report, 'ENC-007');
  });
});

describe('ENC-008 key rotation', () => {
  it('fires on a symmetric customer key without rotation', () => {
    expectViolations(check((stack) => new KmsKey(stack, 'key', { description: 'stream key' })), 'ENC-008', ['aws_kms_key.key']);
  });

  it('stays silent on a rotating key and on asymmetric keys (which cannot rotate)', () => {
    const report = check((stack) => {
      new KmsKey(stack, 'rotating', { enableKeyRotation: true });
      new KmsKey(stack, 'signing', { customerMasterKeySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' });
    });
    expectClean(report, 'ENC-008');
  });
});

describe('S3-001 TLS-only bucket policy', () => {
  it('fires on a bucket with no policy, without the SecureTransport condition, or not covering its objects', () => {
    const report = check((stack) => {
      bucket(stack, 'no-policy', 'policy');
      bucket(stack, 'no-condition', 'condition');
      bucket(stack, 'no-objects', 'object-arn');
    });
    const found = expectViolations(report, 'S3-001', ['aws_s3_bucket.no-policy', 'aws_s3_bucket.no-condition', 'aws_s3_bucket.no-objects']);
    expect(found.find((v) => v.address.endsWith('no-objects'))?.problem).toMatch(/does not cover the objects/);
  });

  it('stays silent on a policy denying non-TLS requests to the bucket and its objects', () => {
    expectClean(check((stack) => bucket(stack, 'archive')), 'S3-001');
  });
});

describe('S3-002 public access block', () => {
  it('fires on a bucket without a public access block, or with a setting left off', () => {
    const report = check((stack) => {
      bucket(stack, 'open', 'public-access');
      const partial = bucket(stack, 'partial', 'public-access');
      new S3BucketPublicAccessBlock(stack, 'partial-block', { bucket: partial.id, blockPublicAcls: true, blockPublicPolicy: true });
    });
    const found = expectViolations(report, 'S3-002', ['aws_s3_bucket.open', 'aws_s3_bucket.partial']);
    expect(found.find((v) => v.address.endsWith('partial'))?.problem).toBe('the public access block leaves ignore_public_acls, restrict_public_buckets unset');
  });

  it('stays silent when all four settings are on', () => {
    expectClean(check((stack) => bucket(stack, 'archive')), 'S3-002');
  });
});
