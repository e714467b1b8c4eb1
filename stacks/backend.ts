/**
 * Where each stack keeps its state, and how a stack reads another one's outputs: the
 * `terraform_remote_state` data source always matches the configured backend.
 *
 * Local state paths are relative to the folder terraform runs in
 * (`cdktf.out/stacks/<stack>`), so the synthesized JSON holds no path of the machine and
 * the state lands in `<project>/<stateDir>/<stack>.tfstate`.
 */
import * as path from 'node:path';
import {
  CloudBackend,
  DataTerraformRemoteState,
  DataTerraformRemoteStateLocal,
  DataTerraformRemoteStateS3,
  LocalBackend,
  NamedCloudWorkspace,
  S3Backend,
  type TerraformRemoteState,
  type TerraformStack,
} from 'cdktf';
import type { Construct } from 'constructs';
import type { BackendConfig } from './config';
import { SYNTH_OUTDIR, type StackName } from './output-names';

/** The folder terraform runs in for a stack, relative to the project root. */
const workingDir = (stack: StackName): string => path.posix.join(SYNTH_OUTDIR, 'stacks', stack);

/** A stack's local state file, relative to the folder terraform runs in for any stack. */
export function localStatePath(stateDir: string, stack: StackName): string {
  // Every stack's working directory has the same depth, so producer and consumer agree.
  return path.posix.relative(workingDir(stack), path.posix.join(stateDir, `${stack}.tfstate`));
}

export const s3StateKey = (keyPrefix: string, stack: StackName): string => `${keyPrefix}/${stack}.tfstate`;
export const cloudWorkspace = (workspacePrefix: string, stack: StackName): string => `${workspacePrefix}${stack}`;

/** Configures `stack`'s own state backend. */
export function configureBackend(stack: TerraformStack, backend: BackendConfig, name: StackName): void {
  switch (backend.kind) {
    case 'local':
      new LocalBackend(stack, { path: localStatePath(backend.stateDir, name) });
      return;
    case 's3': {
      const s3 = new S3Backend(stack, { bucket: backend.bucket, key: s3StateKey(backend.keyPrefix, name), region: backend.region, encrypt: true });
      // S3-native locking (Terraform 1.10+): a lock file beside the state, no DynamoDB table.
      s3.addOverride('use_lockfile', true);
      return;
    }
    case 'cloud':
      new CloudBackend(stack, {
        organization: backend.organization,
        hostname: backend.hostname,
        workspaces: new NamedCloudWorkspace(cloudWorkspace(backend.workspacePrefix, name)),
      });
      return;
  }
}

/** A data source reading `producer`'s outputs from the configured backend. */
export function remoteState(scope: Construct, id: string, backend: BackendConfig, producer: StackName): TerraformRemoteState {
  switch (backend.kind) {
    case 'local':
      return new DataTerraformRemoteStateLocal(scope, id, { path: localStatePath(backend.stateDir, producer) });
    case 's3':
      return new DataTerraformRemoteStateS3(scope, id, { bucket: backend.bucket, key: s3StateKey(backend.keyPrefix, producer), region: backend.region });
    case 'cloud':
      // Terraform Cloud exposes a workspace's outputs through the `remote` backend type.
      return new DataTerraformRemoteState(scope, id, {
        organization: backend.organization,
        hostname: backend.hostname,
        workspaces: { name: cloudWorkspace(backend.workspacePrefix, producer) },
      });
  }
}
