/**
 * `npm run image:push`: builds the web image (web/Dockerfile), tags it with the tag the
 * `pipeline` stack deploys (`web.imageTag` of the platform configuration), and pushes it
 * to the ECR repository whose URL the `repository` stack publishes as an output. No
 * account number is typed or copied anywhere.
 *
 *   npm run image:push                       URL from `terraform output` of the repository stack
 *   npm run image:push -- --repository-url 123456789012.dkr.ecr.eu-west-2.amazonaws.com/iot-web
 *   npm run image:push -- --tag 2024-06-01   (deploy the same tag: PLATFORM_WEB_IMAGE_TAG=2024-06-01)
 *
 * The registry login uses the AWS SDK's credential chain (AWS_PROFILE, environment,
 * SSO, ...) through ECR's GetAuthorizationToken; the password goes to docker on stdin.
 *
 * The pipeline stack runs the image by digest: it reads the digest the tag names when it is
 * deployed. So a push changes nothing until `cdktf deploy pipeline`, which the tool says.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { Command } from 'commander';
import { instanceArchitecture } from '../stacks/construct-defaults';
import { REPOSITORY_OUTPUTS, SYNTH_OUTDIR } from '../stacks/output-names';
import { PROJECT_ROOT } from '../build/project-root';

export const DOCKERFILE = path.join('web', 'Dockerfile');
/** Where `cdktf synth` puts the repository stack; terraform runs there, as `cdktf deploy` did. */
export const REPOSITORY_STACK_DIR = path.join(SYNTH_OUTDIR, 'stacks', 'repository');

/** A failure the user can fix; its message says how. */
export class ImagePushError extends Error {
  override readonly name = 'ImagePushError';
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Written to the command's stdin (the registry password). */
  readonly input?: string;
  /** Show the command's output as it runs (build and push progress) instead of capturing it. */
  readonly inherit?: boolean;
}

/** Runs a program; rejects with `code: 'ENOENT'` when it is not installed. */
export type Runner = (command: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

export interface RegistryLogin {
  readonly username: string;
  readonly password: string;
}

export interface ImagePushDependencies {
  readonly run: Runner;
  readonly registryLogin: (region: string) => Promise<RegistryLogin>;
  readonly log: (line: string) => void;
}

export interface ImagePushOptions {
  /** @default read from the repository stack's `repository_url` output */
  readonly repositoryUrl?: string;
  readonly tag: string;
  /** `linux/amd64` or `linux/arm64`, the cluster's architecture. */
  readonly platform: string;
  /** @default PROJECT_ROOT */
  readonly projectRoot?: string;
}

export interface ParsedRepositoryUrl {
  readonly registry: string;
  readonly region: string;
  readonly repository: string;
}

/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<name>` → its parts. */
export function parseRepositoryUrl(url: string): ParsedRepositoryUrl {
  const match = /^(\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)\/([a-z0-9][a-z0-9._\/-]*)$/.exec(url.trim());
  if (match === null) {
    throw new ImagePushError(`"${url}" is not an ECR repository URL (expected <account>.dkr.ecr.<region>.amazonaws.com/<name>)`);
  }
  return { registry: match[1] as string, region: match[2] as string, repository: match[3] as string };
}

/** The image platform of the cluster's instances: Graviton types (t4g, m7g, c6gn, ...) are arm64. */
export function platformOf(instanceType: string): string {
  return instanceArchitecture(instanceType) === 'arm64' ? 'linux/arm64' : 'linux/amd64';
}

/** What to run after pushing `tag` when the pipeline stack deploys `deployedTag`. */
export function nextSteps(tag: string, deployedTag: string): string[] {
  const deploy = tag === deployedTag ? 'npx cdktf deploy pipeline' : `PLATFORM_WEB_IMAGE_TAG=${tag} npx cdktf deploy pipeline`;
  return [
    `next: ${deploy}`,
    '  The web service runs images by digest: deploying the pipeline stack reads the digest the tag names now and rolls the service onto it.',
    ...(tag === deployedTag ? [] : [`  The configuration deploys tag "${deployedTag}"; set web.imageTag to "${tag}" to keep running this one.`]),
    '  First deploy of the platform? Run npx cdktf deploy pipeline scaling.',
  ];
}

const firstLine = (text: string): string => text.trim().split('\n')[0] ?? '';

async function tool(run: Runner, name: string, args: readonly string[], options: RunOptions, missing: string): Promise<CommandResult> {
  try {
    return await run(name, args, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ImagePushError(missing);
    throw error;
  }
}

/** The repository URL from the `repository` stack's state, via `terraform output`. */
export async function repositoryUrlFromState(run: Runner, projectRoot: string): Promise<string> {
  const stackDir = path.join(projectRoot, REPOSITORY_STACK_DIR);
  const hint = 'deploy it first (npm run synth, then npx cdktf deploy repository), or pass --repository-url';
  if (!existsSync(stackDir)) throw new ImagePushError(`the repository stack is not synthesized (${REPOSITORY_STACK_DIR} is missing): ${hint}`);
  const result = await tool(run, 'terraform', ['output', '-json'], { cwd: stackDir }, `the terraform CLI is not installed, so the repository stack's outputs cannot be read: install terraform, or pass --repository-url`);
  if (result.code !== 0) {
    throw new ImagePushError(`terraform could not read the repository stack's state (${firstLine(result.stderr) || `exit ${result.code}`}): ${hint}`);
  }
  let outputs: Record<string, { value?: unknown }>;
  try {
    outputs = JSON.parse(result.stdout || '{}') as Record<string, { value?: unknown }>;
  } catch {
    throw new ImagePushError(`terraform output -json printed something that is not JSON: ${firstLine(result.stdout)}`);
  }
  const url = outputs[REPOSITORY_OUTPUTS.repositoryUrl]?.value;
  if (typeof url !== 'string' || url === '') {
    throw new ImagePushError(`the repository stack's state has no "${REPOSITORY_OUTPUTS.repositoryUrl}" output: ${hint}`);
  }
  return url;
}

/** Builds, tags and pushes; returns the pushed image reference. */
export async function pushImage(options: ImagePushOptions, deps: ImagePushDependencies): Promise<string> {
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const url = options.repositoryUrl ?? (await repositoryUrlFromState(deps.run, projectRoot));
  const { registry, region } = parseRepositoryUrl(url);
  const image = `${url}:${options.tag}`;

  const docker = await tool(deps.run, 'docker', ['version', '--format', '{{.Server.Version}}'], {}, 'the docker CLI is not installed: install Docker (https://docs.docker.com/engine/install/) and run again');
  if (docker.code !== 0) throw new ImagePushError(`the Docker engine is not reachable (${firstLine(docker.stderr) || `exit ${docker.code}`}): start Docker and run again`);

  deps.log(`logging in to ${registry}`);
  let login: RegistryLogin;
  try {
    login = await deps.registryLogin(region);
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'CredentialsProviderError' || /credential/i.test((error as Error).message)) {
      throw new ImagePushError('no AWS credentials were found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run aws sso login');
    }
    if (/AccessDenied|UnrecognizedClient|InvalidSignature|ExpiredToken/.test(name)) {
      throw new ImagePushError(`the AWS credentials were refused (${name}): they need ecr:GetAuthorizationToken and push rights on the repository`);
    }
    throw error;
  }
  const loggedIn = await deps.run('docker', ['login', '--username', login.username, '--password-stdin', registry], { input: login.password });
  if (loggedIn.code !== 0) throw new ImagePushError(`docker login to ${registry} failed: ${firstLine(loggedIn.stderr)}`);

  deps.log(`building ${image} for ${options.platform}`);
  const built = await deps.run('docker', ['build', '--platform', options.platform, '--file', DOCKERFILE, '--tag', image, '.'], { cwd: projectRoot, inherit: true });
  if (built.code !== 0) throw new ImagePushError(`docker build failed (exit ${built.code}); its output is above`);

  deps.log(`pushing ${image}`);
  const pushed = await deps.run('docker', ['push', image], { inherit: true });
  if (pushed.code !== 0) throw new ImagePushError(`docker push failed (exit ${pushed.code}); its output is above`);
  return image;
}

// ---------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------

const runCommand: Runner = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', options.inherit ? 'inherit' : 'pipe', options.inherit ? 'inherit' : 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin?.end(options.input);
  });

async function ecrLogin(region: string): Promise<RegistryLogin> {
  const client = new ECRClient({ region });
  try {
    const result = await client.send(new GetAuthorizationTokenCommand({}));
    const token = result.authorizationData?.[0]?.authorizationToken;
    if (token === undefined) throw new ImagePushError('ECR returned no authorization token');
    const [username = '', password = ''] = Buffer.from(token, 'base64').toString('utf8').split(':', 2);
    return { username, password };
  } finally {
    client.destroy();
  }
}

async function main(): Promise<void> {
  const program = new Command('image:push')
    .description('build the web image and push it to the repository stack\'s ECR repository with the tag the pipeline stack deploys')
    .option('--repository-url <url>', `ECR repository URL (default: the "${REPOSITORY_OUTPUTS.repositoryUrl}" output of the repository stack)`)
    .option('--tag <tag>', 'image tag (default: web.imageTag of the platform configuration, as the pipeline stack deploys)')
    .option('--platform <platform>', 'image platform (default: from cluster.instanceType, linux/amd64 or linux/arm64 for Graviton)')
    .parse();
  const flags = program.opts<{ repositoryUrl?: string; tag?: string; platform?: string }>();

  // Loaded here, not at the top: validating the configuration pulls in ajv, which `--help` does not need.
  const { loadConfig } = await import('../stacks/config');
  const config = loadConfig();
  const tag = flags.tag ?? config.web.imageTag;
  const platform = flags.platform ?? platformOf(config.cluster.instanceType);

  const image = await pushImage(
    { ...(flags.repositoryUrl === undefined ? {} : { repositoryUrl: flags.repositoryUrl }), tag, platform },
    { run: runCommand, registryLogin: ecrLogin, log: (line) => console.log(line) },
  );
  console.log(`pushed ${image}`);
  for (const line of nextSteps(tag, config.web.imageTag)) console.log(line);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`image:push: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
