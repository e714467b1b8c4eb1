import { Construct } from 'constructs';
import { DataAwsEcrLifecyclePolicyDocument } from '@cdktf/provider-aws/lib/data-aws-ecr-lifecycle-policy-document';
import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';

export interface ImageRepositoryProps {
  readonly name: string;
  /** Tagged images kept; older ones expire. @default 10 */
  readonly keepLastImages?: number;
  /** Days after which untagged images (superseded pushes) expire. @default 7 */
  readonly untaggedExpiryDays?: number;
  /** Immutable tags: a tag always names the same image, so deploy a new tag per release. @default false */
  readonly immutableTags?: boolean;
}

/**
 * The web image's ECR repository: scanned on push, encrypted with KMS, old images
 * expired by a lifecycle policy. It has no repository policy: only principals of this
 * account that IAM allows can push or pull (the seed granted push to `*`).
 */
export class ImageRepository extends Construct {
  public readonly repositoryUrl: string;
  public readonly repositoryArn: string;
  public readonly repositoryName: string;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    const keepLastImages = props.keepLastImages ?? 10;
    const untaggedExpiryDays = props.untaggedExpiryDays ?? 7;
    if (!Number.isInteger(keepLastImages) || keepLastImages < 1) throw new Error(`ImageRepository: keepLastImages must be a whole number of at least 1, got ${keepLastImages}`);
    if (!Number.isInteger(untaggedExpiryDays) || untaggedExpiryDays < 1) {
      throw new Error(`ImageRepository: untaggedExpiryDays must be a whole number of at least 1, got ${untaggedExpiryDays}`);
    }

    const repository = new EcrRepository(this, 'repository', {
      name: props.name,
      imageTagMutability: props.immutableTags === true ? 'IMMUTABLE' : 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: 'KMS' }],
    });
    const lifecycle = new DataAwsEcrLifecyclePolicyDocument(this, 'lifecycle-document', {
      rule: [
        {
          priority: 1,
          description: `Expire untagged images after ${untaggedExpiryDays} days`,
          selection: [{ tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: untaggedExpiryDays }],
          action: [{ type: 'expire' }],
        },
        {
          priority: 2,
          description: `Keep the last ${keepLastImages} images`,
          selection: [{ tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: keepLastImages }],
          action: [{ type: 'expire' }],
        },
      ],
    });
    new EcrLifecyclePolicy(this, 'lifecycle', { repository: repository.name, policy: lifecycle.json });

    this.repositoryUrl = repository.repositoryUrl;
    this.repositoryArn = repository.arn;
    this.repositoryName = repository.name;
  }
}
