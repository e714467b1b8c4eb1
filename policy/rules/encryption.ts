import { isAnyone, readPolicy, type Statement } from '../iam-policies';
import { block, blocks, isSet, isTrue, type Element, type StackModel } from '../model';
import { finding, rule, type Finding } from './rule';

const each = (model: StackModel, type: string, problem: (element: Element) => string | undefined): Finding[] =>
  model.resources(type).flatMap((element) => {
    const text = problem(element);
    return text === undefined ? [] : [finding(element, text)];
  });

export const streamEncrypted = rule({
  id: 'ENC-001',
  category: 'encryption',
  title: 'Kinesis streams are encrypted with KMS',
  fix: 'Set `encryptionType: "KMS"` and `kmsKeyId` (e.g. `alias/aws/kinesis` or a customer key).',
  equivalents: {
    checkov: [{ id: 'CKV_AWS_43' }, { id: 'CKV_AWS_185', scope: 'customer key' }],
    trivy: [{ id: 'AVD-AWS-0064' }],
  },
  check: (model) =>
    each(model, 'aws_kinesis_stream', ({ config }) =>
      config['encryption_type'] !== 'KMS'
        ? `encryption_type is ${JSON.stringify(config['encryption_type'] ?? null)}, not "KMS"`
        : isSet(config['kms_key_id'])
          ? undefined
          : 'encryption_type is "KMS" but kms_key_id is not set',
    ),
});

export const tableEncrypted = rule({
  id: 'ENC-002',
  category: 'encryption',
  title: 'DynamoDB tables use KMS server-side encryption (AWS-managed or customer key), not the default AWS-owned key',
  fix: 'Set `serverSideEncryption: { enabled: true }` (add `kmsKeyArn` for a customer key).',
  equivalents: {
    checkov: [{ id: 'CKV_AWS_119' }],
    trivy: [{ id: 'AVD-AWS-0025', scope: 'wants a customer key' }],
    note: 'The AWS-managed key `aws/dynamodb` passes, as a customer key does.',
  },
  check: (model) =>
    each(model, 'aws_dynamodb_table', ({ config }) =>
      isTrue(block(config['server_side_encryption'])['enabled']) ? undefined : 'server_side_encryption.enabled is not true',
    ),
});

export const topicEncrypted = rule({
  id: 'ENC-003',
  category: 'encryption',
  title: 'SNS topics are encrypted with KMS',
  fix: 'Set `kmsMasterKeyId` (e.g. `alias/aws/sns` or a customer key).',
  equivalents: { checkov: [{ id: 'CKV_AWS_26' }], trivy: [{ id: 'AVD-AWS-0095' }] },
  check: (model) =>
    each(model, 'aws_sns_topic', ({ config }) => (isSet(config['kms_master_key_id']) ? undefined : 'kms_master_key_id is not set')),
});

export const queueEncrypted = rule({
  id: 'ENC-004',
  category: 'encryption',
  title: 'SQS queues are encrypted (KMS or SQS-managed keys), stated explicitly',
  fix: 'Set `kmsMasterKeyId`, or `sqsManagedSseEnabled: true`.',
  equivalents: { checkov: [{ id: 'CKV_AWS_27' }], trivy: [{ id: 'AVD-AWS-0096' }] },
  check: (model) =>
    each(model, 'aws_sqs_queue', ({ config }) =>
      isSet(config['kms_master_key_id']) || isTrue(config['sqs_managed_sse_enabled'])
        ? undefined
        : 'neither kms_master_key_id nor sqs_managed_sse_enabled is set',
    ),
});

/** The resources of `type` whose `bucket` attribute designates `bucket`. */
const bucketSettings = (model: StackModel, type: string, bucket: Element): Element[] =>
  model.resources(type).filter((setting) => model.designates(setting.config['bucket'], bucket, 'bucket'));

export const bucketEncrypted = rule({
  id: 'ENC-005',
  category: 'encryption',
  title: 'S3 buckets declare default server-side encryption',
  fix: 'Add an `S3BucketServerSideEncryptionConfigurationA` for the bucket with `sseAlgorithm: "aws:kms"` (or `"AES256"`).',
  equivalents: {
    checkov: [
      { id: 'CKV_AWS_19' },
      { id: 'CKV2_AWS_40', scope: 'separate SSE resource' },
      { id: 'CKV_AWS_145', scope: 'KMS' },
    ],
    trivy: [{ id: 'AVD-AWS-0088', scope: 'deprecated upstream' }],
  },
  check: (model) =>
    each(model, 'aws_s3_bucket', (bucket) => {
      const settings = [
        bucket.config['server_side_encryption_configuration'],
        ...bucketSettings(model, 'aws_s3_bucket_server_side_encryption_configuration', bucket).map((s) => s.config),
      ];
      const algorithms = settings
        .flatMap((setting) => blocks(setting))
        .flatMap((setting) => blocks(setting['rule']))
        .map((r) => block(r['apply_server_side_encryption_by_default'])['sse_algorithm']);
      return algorithms.some(isSet) ? undefined : 'no server-side encryption configuration references the bucket';
    }),
});

export const repositoryEncrypted = rule({
  id: 'ENC-006',
  category: 'encryption',
  title: 'ECR repositories declare their encryption (AES256 or KMS)',
  fix: 'Set `encryptionConfiguration: [{ encryptionType: "KMS" }]` (or `"AES256"`).',
  equivalents: {
    checkov: [{ id: 'CKV_AWS_136', scope: 'wants KMS' }],
    trivy: [{ id: 'AVD-AWS-0033', scope: 'wants a customer key' }],
  },
  check: (model) =>
    each(model, 'aws_ecr_repository', ({ config }) => {
      const type = block(config['encryption_configuration'])['encryption_type'];
      return type === 'KMS' || type === 'AES256' ? undefined : 'encryption_configuration.encryption_type is not set';
    }),
});

export const volumesEncrypted = rule({
  id: 'ENC-007',
  category: 'encryption',
  title: 'EC2 root and data volumes are encrypted (launch templates, instances, EBS volumes)',
  fix: 'Declare the root device in `blockDeviceMappings` with `ebs: { encrypted: "true" }` (the AMI\'s default mapping is not encrypted).',
  equivalents: {
    checkov: [
      { id: 'CKV_AWS_8', scope: 'instances, launch configurations' },
      { id: 'CKV_AWS_3', scope: 'EBS volumes' },
    ],
    trivy: [
      { id: 'AVD-AWS-0131', scope: 'instances' },
      { id: 'AVD-AWS-0008', scope: 'launch configurations' },
      { id: 'AVD-AWS-0026', scope: 'EBS volumes' },
    ],
    note: 'Stricter: a launch template that does not declare its root volume fails.',
  },
  check(model) {
    const findings: Finding[] = [];
    for (const template of model.resources('aws_launch_template')) {
      const mappings = blocks(template.config['block_device_mappings']).filter((m) => blocks(m['ebs']).length > 0);
      if (mappings.length === 0) findings.push(finding(template, 'no block_device_mappings: the root volume takes the AMI\'s unencrypted default'));
      for (const mapping of mappings) {
        if (!isTrue(block(mapping['ebs'])['encrypted'])) {
          findings.push(finding(template, `block device ${JSON.stringify(mapping['device_name'] ?? null)} is not encrypted`));
        }
      }
    }
    for (const instance of model.resources('aws_instance')) {
      if (!isTrue(block(instance.config['root_block_device'])['encrypted'])) findings.push(finding(instance, 'root_block_device.encrypted is not true'));
      for (const device of blocks(instance.config['ebs_block_device'])) {
        if (!isTrue(device['encrypted'])) findings.push(finding(instance, `ebs_block_device ${JSON.stringify(device['device_name'] ?? null)} is not encrypted`));
      }
    }
    findings.push(...each(model, 'aws_ebs_volume', ({ config }) => (isTrue(config['encrypted']) ? undefined : 'encrypted is not true')));
    return findings;
  },
});

export const keyRotation = rule({
  id: 'ENC-008',
  category: 'encryption',
  title: 'Customer-managed KMS keys rotate',
  fix: 'Set `enableKeyRotation: true` on the key.',
  equivalents: { checkov: [{ id: 'CKV_AWS_7' }], trivy: [{ id: 'AVD-AWS-0065' }] },
  check: (model) =>
    each(model, 'aws_kms_key', ({ config }) =>
      isTrue(config['enable_key_rotation']) || (config['customer_master_key_spec'] ?? 'SYMMETRIC_DEFAULT') !== 'SYMMETRIC_DEFAULT'
        ? undefined
        : 'enable_key_rotation is not true',
    ),
});

/** True when the statement denies every S3 request made without TLS. */
function deniesInsecureTransport(statement: Statement): boolean {
  return (
    statement.effect === 'Deny' &&
    (statement.actions ?? []).some((action) => action === 's3:*' || action === '*') &&
    statement.principals.some(isAnyone) &&
    statement.conditions.some(
      (c) => c.test === 'Bool' && c.variable === 'aws:SecureTransport' && c.values.length === 1 && c.values[0] === 'false',
    )
  );
}

export const bucketTlsOnly = rule({
  id: 'S3-001',
  category: 'encryption',
  title: 'Every S3 bucket has a policy that denies requests without TLS (`aws:SecureTransport = false`) on the bucket and its objects',
  fix: 'Add a bucket policy document statement: Deny, principal `*`, action `s3:*`, resources `bucket.arn` and `` `${bucket.arn}/*` ``, condition Bool `aws:SecureTransport` = `false`.',
  equivalents: {
    checkov: [],
    trivy: [],
    note: 'Closest: AWS Config `s3-bucket-ssl-requests-only` (Security Hub S3.5, unconfirmed).',
  },
  check: (model) =>
    each(model, 'aws_s3_bucket', (bucket) => {
      const policies = bucketSettings(model, 'aws_s3_bucket_policy', bucket).map((p) => p.config['policy']);
      if (bucket.config['policy'] !== undefined) policies.push(bucket.config['policy']);
      if (policies.length === 0) return 'no bucket policy references the bucket';
      const denials = policies
        .flatMap((policy) => readPolicy(model, policy).statements ?? [])
        .filter(deniesInsecureTransport);
      const covers = (suffix: string): boolean =>
        denials.some((s) =>
          s.resources.some((r) => (model.refersTo(r, bucket, 'arn') && r.endsWith(suffix)) || r === '*'),
        );
      if (denials.length === 0) return 'the bucket policy has no Deny statement on aws:SecureTransport = false for s3:* and Principal *';
      if (!covers('}')) return 'the TLS-only statement does not cover the bucket ARN';
      if (!covers('}/*')) return 'the TLS-only statement does not cover the objects (`${bucket.arn}/*`)';
      return undefined;
    }),
});

const PUBLIC_ACCESS_SETTINGS = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];

export const bucketNotPublic = rule({
  id: 'S3-002',
  category: 'encryption',
  title: 'Every S3 bucket blocks public access (all four settings)',
  fix: 'Add an `S3BucketPublicAccessBlock` for the bucket with all four settings `true`.',
  equivalents: {
    checkov: [
      { id: 'CKV2_AWS_6', scope: 'block present' },
      { id: 'CKV_AWS_53', scope: 'block_public_acls' },
      { id: 'CKV_AWS_54', scope: 'block_public_policy' },
      { id: 'CKV_AWS_55', scope: 'ignore_public_acls' },
      { id: 'CKV_AWS_56', scope: 'restrict_public_buckets' },
    ],
    trivy: [
      { id: 'AVD-AWS-0094', scope: 'block present' },
      { id: 'AVD-AWS-0086', scope: 'block_public_acls' },
      { id: 'AVD-AWS-0087', scope: 'block_public_policy' },
      { id: 'AVD-AWS-0091', scope: 'ignore_public_acls' },
      { id: 'AVD-AWS-0093', scope: 'restrict_public_buckets' },
    ],
  },
  check: (model) =>
    each(model, 'aws_s3_bucket', (bucket) => {
      const blocksOfBucket = bucketSettings(model, 'aws_s3_bucket_public_access_block', bucket);
      if (blocksOfBucket.length === 0) return 'no public access block references the bucket';
      const missing = PUBLIC_ACCESS_SETTINGS.filter((key) => !blocksOfBucket.some((b) => isTrue(b.config[key])));
      return missing.length === 0 ? undefined : `the public access block leaves ${missing.join(', ')} unset`;
    }),
});

export const ENCRYPTION_RULES = [
  streamEncrypted,
  tableEncrypted,
  topicEncrypted,
  queueEncrypted,
  bucketEncrypted,
  repositoryEncrypted,
  volumesEncrypted,
  keyRotation,
  bucketTlsOnly,
  bucketNotPublic,
] as const;
