/**
 * The resource types that hold data Terraform cannot give back: destroying one (or
 * replacing it, which destroys the old object) loses what it holds. One list, read by
 * the stacks (`prevent_destroy` on each), the policy pack (which checks it is there) and
 * `npm run plan:review` (whose guard stops a plan that would destroy one).
 *
 * Plain data, free of cdktf: the plan review loads it at start-up.
 */

export interface StatefulResourceType {
  /** Terraform type, e.g. `aws_dynamodb_table`. */
  readonly type: string;
  /** What it is, for people, e.g. "DynamoDB table". */
  readonly kind: string;
  /** What is lost when Terraform destroys it, said so that a reviewer can weigh it. */
  readonly loses: string;
}

export const STATEFUL_RESOURCE_TYPES: readonly StatefulResourceType[] = [
  {
    type: 'aws_dynamodb_table',
    kind: 'DynamoDB table',
    loses: 'every item in the table (readings, thresholds, alert state, the series catalogue or the rollups); only a restore from a backup into a new table brings them back',
  },
  {
    type: 'aws_kinesis_stream',
    kind: 'Kinesis stream',
    loses: 'every record not yet read by all consumers (up to the retention period), and the consumers\' positions in the shards',
  },
  {
    type: 'aws_s3_bucket',
    kind: 'S3 bucket',
    loses: 'every object in the bucket (the archive bucket holds every reading ever sent); without force_destroy the delete fails on a non-empty bucket half-way through the apply',
  },
  {
    type: 'aws_kms_key',
    kind: 'KMS key',
    loses: 'the key material: everything encrypted under it (stream records, queued messages, archived objects) becomes unreadable once the deletion window ends',
  },
  {
    type: 'aws_sqs_queue',
    kind: 'SQS queue',
    loses: 'every message in the queue (the failure queue holds the records the consumers could not process, kept nowhere else)',
  },
  {
    type: 'aws_ecr_repository',
    kind: 'ECR repository',
    loses: 'every image in the repository, including the one the web service runs; tasks cannot be replaced until an image is pushed again',
  },
  {
    type: 'aws_cognito_user_pool',
    kind: 'Cognito user pool',
    loses: 'every user account, password and group in the pool; users must sign up again',
  },
];

const BY_TYPE = new Map(STATEFUL_RESOURCE_TYPES.map((entry) => [entry.type, entry]));

/** The entry for a Terraform type, or undefined when the type holds no data of its own. */
export function statefulResourceType(type: string): StatefulResourceType | undefined {
  return BY_TYPE.get(type);
}
