/**
 * The web app as the stack's ECS service runs it: the container of its task definition
 * that the service puts behind the load balancer, with that container's environment, and
 * ready once the target group's health check passes. Locally it runs in the platform's
 * process, listening on the web port as the container's port mapping would be published.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../web/app';
import { IDENTITY_ENV, loadWebConfig, WebConfigError, type WebConfig } from '../../web/config';
import { configuredDependencies } from '../../web/configured-app';
import { createWebDynamoClient } from '../../web/dynamo-client';
import type { LoadedStack } from './load-stack';
import { TwinResolutionError } from './stack';

export interface WebServiceSpec {
  /** The ECS service's address. */
  readonly address: string;
  readonly taskDefinition: string;
  readonly containerName: string;
  /** The container's `environment`, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly containerPort: number;
  readonly healthCheck: { readonly path: string; readonly matcher: string; readonly timeoutSeconds: number };
}

interface ContainerDefinition {
  readonly name: string;
  readonly environment?: readonly { name: string; value: string }[];
  readonly secrets?: readonly unknown[];
  readonly environmentFiles?: readonly unknown[];
  readonly portMappings?: readonly { containerPort: number }[];
}

/** The stack's web service, or undefined when it has no ECS service. */
export function webServiceSpec(stack: Pick<LoadedStack, 'resources' | 'attribute'>): WebServiceSpec | undefined {
  const service = stack.resources('aws_ecs_service')[0];
  if (service === undefined) return undefined;
  const config = service.config as { task_definition: string; load_balancer?: readonly { container_name: string; container_port: number; target_group_arn?: string }[] };
  const taskDefinition = stack.resources('aws_ecs_task_definition').find((candidate) => stack.attribute(candidate.address, 'arn') === config.task_definition);
  if (taskDefinition === undefined) throw new TwinResolutionError(`${service.address}: no task definition of the stack has the ARN ${config.task_definition}`, service.address, 'task_definition');
  const containers = JSON.parse(String(taskDefinition.config.container_definitions)) as ContainerDefinition[];
  const balanced = config.load_balancer?.[0];
  const container = balanced === undefined ? containers.find((candidate) => (candidate.portMappings ?? []).length > 0) : containers.find((candidate) => candidate.name === balanced.container_name);
  if (container === undefined) throw new TwinResolutionError(`${service.address}: no container of ${taskDefinition.address} serves the load balancer`, service.address, 'load_balancer');
  for (const unsupported of ['secrets', 'environmentFiles'] as const) {
    if ((container[unsupported] ?? []).length > 0) throw new TwinResolutionError(`${taskDefinition.address}: container ${container.name} uses ${unsupported}, which the local platform does not provide`, taskDefinition.address, 'container_definitions');
  }
  const targetGroup = stack.resources('aws_lb_target_group').find((candidate) => balanced?.target_group_arn !== undefined && stack.attribute(candidate.address, 'arn') === balanced.target_group_arn);
  const check = (targetGroup?.config.health_check ?? {}) as { path?: string; matcher?: string; timeout?: number };
  return {
    address: service.address,
    taskDefinition: taskDefinition.address,
    containerName: container.name,
    environment: Object.fromEntries((container.environment ?? []).map((variable) => [variable.name, variable.value])),
    containerPort: balanced?.container_port ?? container.portMappings?.[0]?.containerPort ?? 80,
    // Elastic Load Balancing's defaults for an HTTP target group.
    healthCheck: { path: check.path ?? '/', matcher: check.matcher ?? '200', timeoutSeconds: check.timeout ?? 5 },
  };
}

/**
 * Whether a status code meets a target group's matcher: codes and ranges, comma-separated
 * ("200", "200-299", "200,302").
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
 */
export function meetsMatcher(matcher: string, status: number): boolean {
  return matcher.split(',').some((part) => {
    const [low, high] = part.trim().split('-').map(Number);
    return low !== undefined && status >= low && status <= (high ?? low);
  });
}

export interface WebServiceOptions {
  readonly spec: WebServiceSpec;
  readonly host: string;
  /** The published port; 0 picks a free one. */
  readonly port: number;
  readonly dynamodbEndpoint: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface RunningWebService {
  readonly url: string;
  readonly config: WebConfig;
  close(): Promise<void>;
}

export async function startWebService(options: WebServiceOptions): Promise<RunningWebService> {
  const { spec } = options;
  // What the container sees: its environment, plus what ECS and the task role would provide.
  // The load balancer, and the sign-in it runs, are control-plane only here: the twin stands
  // in for them, and every change is made by the one local user.
  const env = { ...spec.environment, AWS_EXECUTION_ENV: 'AWS_ECS_EC2', AWS_ENDPOINT_URL_DYNAMODB: options.dynamodbEndpoint, [IDENTITY_ENV.mode]: 'local' };
  let config: WebConfig;
  try {
    config = loadWebConfig(env);
  } catch (error) {
    if (!(error instanceof WebConfigError)) throw error;
    throw new TwinResolutionError(`${spec.taskDefinition}: container ${spec.containerName} would not start: ${error.message}`, spec.taskDefinition, 'container_definitions');
  }
  const client = createWebDynamoClient({ region: config.region, endpoint: options.dynamodbEndpoint, credentials: options.credentials });
  const app: FastifyInstance = buildApp(configuredDependencies(config, client));
  const close = async () => {
    await app.close();
    client.destroy();
  };
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`the web app cannot listen on ${options.host}:${options.port}: the port is in use by another program`);
    throw error;
  }
  const address = app.server.address();
  const url = `http://${options.host}:${typeof address === 'object' && address !== null ? address.port : options.port}`;
  const status = await fetch(`${url}${spec.healthCheck.path}`, { signal: AbortSignal.timeout(spec.healthCheck.timeoutSeconds * 1000) }).then(
    (response) => response.status,
    () => 0,
  );
  if (!meetsMatcher(spec.healthCheck.matcher, status)) {
    await close();
    throw new Error(`the web app fails its target group's health check: GET ${spec.healthCheck.path} answered ${status === 0 ? 'nothing' : status}, expected ${spec.healthCheck.matcher}`);
  }
  return { url, config, close };
}
