import type { Construct } from 'constructs';
import { resourceName, type PlatformConfig } from './config';
import { ImageRepository } from './image-repository';
import { REPOSITORY_OUTPUTS } from './output-names';
import { namedOutput } from './outputs';
import { PlatformStack } from './platform-stack';

/** The web image's repository; deployed first so the image can be pushed before `pipeline` runs it. */
export class RepositoryStack extends PlatformStack {
  public readonly images: ImageRepository;

  constructor(scope: Construct, config: PlatformConfig) {
    super(scope, 'repository', config);
    this.images = new ImageRepository(this, 'web-images', { name: resourceName(config, 'iot-webapp'), ...config.repository });

    namedOutput(this, REPOSITORY_OUTPUTS.repositoryUrl, this.images.repositoryUrl, 'URL of the web image repository (push images here; the pipeline stack runs <url>:<tag>)');
    namedOutput(this, REPOSITORY_OUTPUTS.repositoryArn, this.images.repositoryArn, 'ARN of the web image repository (the ECS execution role may pull only from it)');
    namedOutput(this, REPOSITORY_OUTPUTS.repositoryName, this.images.repositoryName, 'Name of the web image repository');
  }
}
