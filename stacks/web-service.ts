import { Construct } from 'constructs';
import { Fn, TerraformIterator, Token, type ITerraformDependable } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsEcrImage } from '@cdktf/provider-aws/lib/data-aws-ecr-image';
import { DataAwsEcrImages } from '@cdktf/provider-aws/lib/data-aws-ecr-images';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { ServiceRole, type Grant } from './service-role';
import { WEB_SERVICE_LIMITS } from './construct-defaults';
export { WEB_SERVICE_LIMITS } from './construct-defaults';

export interface WebImage {
  /** The repository's URL and name, from the repository stack's state. */
  readonly repositoryUrl: string;
  readonly repositoryName: string;
  /** ARN of the repository; the execution role may pull only from it. */
  readonly repositoryArn: string;
  /** The tag to run: the service runs the digest it names when the stack is applied. */
  readonly tag: string;
}

export interface WebServiceProps {
  /** Service, task family and role names start with it. */
  readonly name: string;
  /** Region of the stack (the container's AWS_REGION and its log configuration). */
  readonly region: string;
  readonly clusterId: string;
  /** The capacity provider the tasks are placed through, and its association with the cluster (the service waits for it). */
  readonly capacityProviderName: string;
  readonly capacityAssociation: ITerraformDependable;
  readonly image: WebImage;
  readonly targetGroupArn: string;
  /** The listener forwarding to the target group: ECS registers tasks only in a target group a listener uses. */
  readonly listener: ITerraformDependable;
  /** @default WEB_SERVICE_LIMITS.containerPort.default */
  readonly containerPort?: number;
  /** Memory reserved for, and hard limit of, each task, MiB. @default WEB_SERVICE_LIMITS.memoryMiB.default */
  readonly memoryMiB?: number;
  /** CPU units (1024 = one vCPU) reserved for the container; service CPU utilisation is measured against them. */
  readonly cpuUnits: number;
  /** Tasks at first deployment; afterwards the scaling stack owns the count. @default WEB_SERVICE_LIMITS.desiredTasks.default */
  readonly desiredTasks?: number;
  readonly logRetentionDays: number;
  /** Tables the web app may read (GetItem, BatchGetItem, Query, Scan). */
  readonly tableArns: readonly string[];
  /** Indexes the web app may Query. @default none */
  readonly indexArns?: readonly string[];
  /** What else the app may do, each exactly (acknowledging alerts, creating silences). @default nothing */
  readonly changeGrants?: readonly Grant[];
  /** Container environment (table names etc.); PORT and AWS_REGION are set here. */
  readonly environment: Readonly<Record<string, string>>;
}


/** The read actions the web app needs: items, series queries, and the small catalogue's Scan. */
export const WEB_TABLE_READ_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'] as const;

export const CONTAINER_NAME = 'web';

/**
 * The web app's ECS service: task and execution roles, log group, a bridge-mode task
 * definition running the image by digest, and the service placed through the capacity
 * provider. Each push of the configured tag followed by `cdktf deploy pipeline` changes the
 * digest, hence the task definition, hence rolls out; and `terraform plan` stops with a
 * clear message when nothing was pushed under the tag yet.
 */
export class WebService extends Construct {
  public readonly serviceName: string;
  /** `<repository url>@sha256:...`, the image the tasks run. */
  public readonly imageReference: string;
  public readonly taskRoleArn: string;

  constructor(scope: Construct, id: string, props: WebServiceProps) {
    super(scope, id);
    const containerPort = props.containerPort ?? WEB_SERVICE_LIMITS.containerPort.default;
    const logGroup = new CloudwatchLogGroup(this, 'log-group', { name: `/ecs/${props.name}`, retentionInDays: props.logRetentionDays });

    const taskRole = new ServiceRole(this, 'task-role', {
      roleName: `${props.name}-task`,
      service: 'ecs-tasks.amazonaws.com',
      description: 'Web app: read the tables it charts; acknowledge alerts and create silences',
      grants: [
        { sid: 'ReadTables', actions: WEB_TABLE_READ_ACTIONS, resources: props.tableArns },
        ...((props.indexArns ?? []).length === 0 ? [] : [{ sid: 'QueryIndexes', actions: ['dynamodb:Query'], resources: props.indexArns ?? [] }]),
        ...(props.changeGrants ?? []),
      ],
    });
    const executionRole = new ServiceRole(this, 'execution-role', {
      roleName: `${props.name}-execution`,
      service: 'ecs-tasks.amazonaws.com',
      description: 'ECS agent for the web task: pull its image, write its logs',
      grants: [
        // GetAuthorizationToken has no resource-level permissions: AWS only accepts "*" here.
        { sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
        { sid: 'PullWebImage', actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], resources: [props.image.repositoryArn] },
        { sid: 'WriteTaskLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.arn}:log-stream:*`] },
      ],
    });

    this.imageReference = `${props.image.repositoryUrl}@${this.pushedDigest(props.image)}`;
    const environment = { ...props.environment, PORT: String(containerPort), AWS_REGION: props.region };
    const taskDefinition = new EcsTaskDefinition(this, 'task-definition', {
      family: props.name,
      requiresCompatibilities: ['EC2'],
      networkMode: 'bridge',
      taskRoleArn: taskRole.arn,
      executionRoleArn: executionRole.arn,
      containerDefinitions: JSON.stringify([
        {
          name: CONTAINER_NAME,
          image: this.imageReference,
          essential: true,
          // A CPU share (not a cap): the task may use idle CPU, and utilisation is measured against it.
          cpu: props.cpuUnits,
          // Hard limit equal to the reservation: a leaking task is restarted, the host is not starved.
          memory: props.memoryMiB ?? WEB_SERVICE_LIMITS.memoryMiB.default,
          portMappings: [{ containerPort, hostPort: 0, protocol: 'tcp' }],
          environment: Object.entries(environment)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => ({ name: key, value })),
          logConfiguration: {
            logDriver: 'awslogs',
            options: { 'awslogs-group': logGroup.name, 'awslogs-region': props.region, 'awslogs-stream-prefix': CONTAINER_NAME },
          },
        },
      ]),
    });

    const service = new EcsService(this, 'service', {
      name: props.name,
      cluster: props.clusterId,
      taskDefinition: taskDefinition.arn,
      // Through the capacity provider, a task that does not fit waits in PROVISIONING and makes ECS add an instance.
      capacityProviderStrategy: [{ capacityProvider: props.capacityProviderName, weight: 1 }],
      // Lets a change of the strategy update the service in place instead of replacing it.
      forceNewDeployment: true,
      desiredCount: props.desiredTasks ?? WEB_SERVICE_LIMITS.desiredTasks.default,
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriodSeconds: 60,
      loadBalancer: [{ targetGroupArn: props.targetGroupArn, containerName: CONTAINER_NAME, containerPort }],
      orderedPlacementStrategy: [
        { type: 'spread', field: 'attribute:ecs.availability-zone' },
        { type: 'binpack', field: 'memory' },
      ],
      enableEcsManagedTags: true,
      propagateTags: 'SERVICE',
      dependsOn: [props.listener, props.capacityAssociation],
      // The scaling stack changes the task count; a redeploy of this stack must not reset it.
      lifecycle: { ignoreChanges: ['desired_count'] },
    });

    this.serviceName = service.name;
    this.taskRoleArn = taskRole.arn;
  }

  /**
   * The digest the tag names now. The image data source is read at plan time; its precondition
   * first checks the repository's list, so a tag that was never pushed stops the plan with
   * what to do rather than with ECR's ImageNotFoundException.
   */
  private pushedDigest(image: WebImage): string {
    const pushed = new DataAwsEcrImages(this, 'pushed-images', { repositoryName: image.repositoryName });
    const pushedTags = TerraformIterator.fromList(pushed.imageIds).pluckProperty('image_tag');
    const current = new DataAwsEcrImage(this, 'image', {
      repositoryName: image.repositoryName,
      imageTag: image.tag,
      lifecycle: {
        precondition: [
          {
            condition: Fn.contains(Token.asList(pushedTags), image.tag),
            errorMessage: `No image tagged "${image.tag}" in the web image repository yet: run npm run image:push (it pushes web.imageTag), then cdktf deploy pipeline again.`,
          },
        ],
      },
    });
    return current.imageDigest;
  }
}
