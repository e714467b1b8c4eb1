/**
 * A Lambda function from a bundled handler (build/handler-bundle.ts): the zip as a Terraform
 * asset, Node 22 on arm64, JSON logs into its own log group, created after that group and
 * its role's policy. What differs between the stack's functions is passed in.
 */
import { AssetType, TerraformAsset } from 'cdktf';
import type { Construct } from 'constructs';
import type { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LAMBDA_HANDLER, type PackagedHandler } from '../build/handler-bundle';
import type { ServiceRole } from './service-role';

export interface PackagedFunctionProps {
  /** Construct ids of the asset and the function (they are the Terraform addresses: keep them). */
  readonly ids: { readonly code: string; readonly function: string };
  readonly functionName: string;
  readonly description: string;
  readonly package: PackagedHandler;
  readonly role: ServiceRole;
  readonly logGroup: CloudwatchLogGroup;
  readonly memorySize: number;
  readonly timeout: number;
  readonly variables: Readonly<Record<string, string>>;
}

export function packagedFunction(scope: Construct, props: PackagedFunctionProps): LambdaFunction {
  const code = new TerraformAsset(scope, props.ids.code, { path: props.package.archive, type: AssetType.FILE, assetHash: props.package.sourceHash });
  return new LambdaFunction(scope, props.ids.function, {
    functionName: props.functionName,
    description: props.description,
    role: props.role.arn,
    runtime: 'nodejs22.x',
    architectures: ['arm64'],
    handler: LAMBDA_HANDLER,
    filename: code.path,
    sourceCodeHash: props.package.archiveSha256,
    memorySize: props.memorySize,
    timeout: props.timeout,
    environment: { variables: { ...props.variables } },
    loggingConfig: { logFormat: 'JSON', logGroup: props.logGroup.name },
    dependsOn: [props.logGroup, props.role.policy],
  });
}
