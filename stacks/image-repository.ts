import { Construct } from 'constructs';
import { DataAwsEcrLifecyclePolicyDocument } from '@cdktf/provider-aws/lib/data-aws-ecr-lifecycle-policy-document';
import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { IMAGE_REPOSITORY_LIMITS } from './construct-defaults';
export { IMAGE_REPOSITORY_LIMITS } from './construct-defaults';

export interface ImageRepositoryProps {
  readonly name: string;
  /** Images kept; older ones expire. @default IMAGE_REPOSITORY_LIMITS.keepLastImages.default */
  readonly keepLastImages?: number;
  /** Days after which untagged images (superseded pushes) expire. @default IMAGE_REPOSITORY_LIMITS.untaggedExpiryDays.default */
  readonly untaggedExpiryDays?: number;
  /** Immutable tags: a tag always names the same image, so deploy a new tag per release. @default false */
  readonly immutableTags?: boolean;
}


/**
 * The web image's ECR repository: scanned on push, encrypted with KMS, old images
 * expired by a lifecycle policy. It has no repository policy: only principals of this
 * account that IAM allows can push or pull.
 */
export class ImageRepository extends Construct {
  public readonly repositoryUrl: string;
  public readonly repositoryArn: string;
  public readonly repositoryName: string;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    const keepLastImages = props.keepLastImages ?? IMAGE_REPOSITORY_LIMITS.keepLastImages.default;
    const untaggedExpiryDays = props.untaggedExpiryDays ?? IMAGE_REPOSITORY_LIMITS.untaggedExpiryDays.default;

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
