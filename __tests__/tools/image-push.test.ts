/**
 * npm run image:push: the order of docker commands, where the URL and tag come from, and
 * a clear error for each missing piece (state, terraform, docker, engine, credentials).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPOSITORY_OUTPUTS } from '../../stacks/output-names';
import {
  ImagePushError,
  parseRepositoryUrl,
  nextSteps,
  platformOf,
  pushImage,
  repositoryUrlFromState,
  REPOSITORY_STACK_DIR,
  type CommandResult,
  type ImagePushDependencies,
  type RunOptions,
} from '../../tools/image-push';
import { PROJECT_ROOT } from '../../build/project-root';

const URL = '123456789012.dkr.ecr.eu-west-2.amazonaws.com/iot-web';

interface Call {
  readonly command: string;
  readonly args: readonly string[];
  readonly options: RunOptions;
}

/** A runner answering from a table (`"docker build"` → result or error), recording every call. */
function fakeRunner(answers: Record<string, Partial<CommandResult> | Error> = {}) {
  const calls: Call[] = [];
  const run = async (command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> => {
    calls.push({ command, args, options });
    const answer = answers[`${command} ${args[0]}`] ?? answers[command] ?? {};
    if (answer instanceof Error) throw answer;
    return { code: 0, stdout: '', stderr: '', ...answer };
  };
  return { run, calls };
}

const notInstalled = () => Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' });

function deps(run: ImagePushDependencies['run'], registryLogin: ImagePushDependencies['registryLogin'] = async () => ({ username: 'AWS', password: 's3cret' })) {
  const logged: string[] = [];
  return { deps: { run, registryLogin, log: (line: string) => logged.push(line) }, logged };
}

describe('nextSteps', () => {
  it('says to deploy the pipeline stack, which reads the digest the tag names now', () => {
    expect(nextSteps('latest', 'latest')).toEqual([
      'next: npx cdktf deploy pipeline',
      '  The web service runs images by digest: deploying the pipeline stack reads the digest the tag names now and rolls the service onto it.',
      '  First deploy of the platform? Run npx cdktf deploy pipeline scaling.',
    ]);
  });

  it('deploys another tag than the configured one through the variable, and says how to keep it', () => {
    const lines = nextSteps('2024-06-01', 'latest');
    expect(lines[0]).toBe('next: PLATFORM_WEB_IMAGE_TAG=2024-06-01 npx cdktf deploy pipeline');
    expect(lines).toContain('  The configuration deploys tag "latest"; set web.imageTag to "2024-06-01" to keep running this one.');
  });
});

describe('parseRepositoryUrl and platformOf', () => {
  test('split an ECR URL into registry, region and repository', () => {
    expect(parseRepositoryUrl(URL)).toEqual({ registry: '123456789012.dkr.ecr.eu-west-2.amazonaws.com', region: 'eu-west-2', repository: 'iot-web' });
  });

  test.each(['iot-web', 'docker.io/library/node', '123.dkr.ecr.eu-west-2.amazonaws.com/x', `${URL}:latest`])('rejects %s', (url) => {
    expect(() => parseRepositoryUrl(url)).toThrow(/not an ECR repository URL/);
  });

  test('Graviton instance types build arm64 images, the others amd64', () => {
    expect(platformOf('t3.micro')).toBe('linux/amd64');
    expect(platformOf('m5.large')).toBe('linux/amd64');
    expect(platformOf('t4g.small')).toBe('linux/arm64');
    expect(platformOf('c6gn.large')).toBe('linux/arm64');
  });
});

describe('repositoryUrlFromState', () => {
  let project: string;
  beforeEach(() => {
    project = mkdtempSync(path.join(tmpdir(), 'image-push-'));
  });
  afterEach(() => rmSync(project, { recursive: true, force: true }));
  const synthesize = () => mkdirSync(path.join(project, REPOSITORY_STACK_DIR), { recursive: true });

  test('reads the repository_url output with terraform in the stack folder', async () => {
    synthesize();
    const { run, calls } = fakeRunner({ terraform: { stdout: JSON.stringify({ [REPOSITORY_OUTPUTS.repositoryUrl]: { value: URL, type: 'string' } }) } });
    await expect(repositoryUrlFromState(run, project)).resolves.toBe(URL);
    expect(calls).toEqual([{ command: 'terraform', args: ['output', '-json'], options: { cwd: path.join(project, REPOSITORY_STACK_DIR) } }]);
  });

  test('says to synthesize and deploy when the stack folder is missing', async () => {
    await expect(repositoryUrlFromState(fakeRunner().run, project)).rejects.toThrow(/not synthesized.*cdktf deploy repository.*--repository-url/);
  });

  test('says to install terraform when it is missing', async () => {
    synthesize();
    await expect(repositoryUrlFromState(fakeRunner({ terraform: notInstalled() }).run, project)).rejects.toThrow(/terraform CLI is not installed/);
  });

  test('passes on why terraform could not read the state', async () => {
    synthesize();
    const { run } = fakeRunner({ terraform: { code: 1, stderr: 'Error: Backend initialization required, please run "terraform init"\nmore' } });
    await expect(repositoryUrlFromState(run, project)).rejects.toThrow(/could not read the repository stack's state \(Error: Backend initialization required, please run "terraform init"\)/);
  });

  test('says the stack is not deployed when the state has no such output', async () => {
    synthesize();
    await expect(repositoryUrlFromState(fakeRunner({ terraform: { stdout: '{}' } }).run, project)).rejects.toThrow(/no "repository_url" output/);
  });
});

describe('pushImage', () => {
  test('checks docker, logs in with the password on stdin, builds for the platform, tags with the repository URL and pushes', async () => {
    const { run, calls } = fakeRunner();
    const regions: string[] = [];
    const { deps: dependencies } = deps(run, async (region) => (regions.push(region), { username: 'AWS', password: 's3cret' }));
    const image = await pushImage({ repositoryUrl: URL, tag: '2024-06-01', platform: 'linux/arm64', projectRoot: '/project' }, dependencies);
    expect(image).toBe(`${URL}:2024-06-01`);
    expect(regions).toEqual(['eu-west-2']);
    expect(calls).toEqual([
      { command: 'docker', args: ['version', '--format', '{{.Server.Version}}'], options: {} },
      { command: 'docker', args: ['login', '--username', 'AWS', '--password-stdin', '123456789012.dkr.ecr.eu-west-2.amazonaws.com'], options: { input: 's3cret' } },
      { command: 'docker', args: ['build', '--platform', 'linux/arm64', '--file', 'web/Dockerfile', '--tag', `${URL}:2024-06-01`, '.'], options: { cwd: '/project', inherit: true } },
      { command: 'docker', args: ['push', `${URL}:2024-06-01`], options: { inherit: true } },
    ]);
    // The password never appears on a command line.
    expect(calls.flatMap((call) => call.args).join(' ')).not.toContain('s3cret');
  });

  test('reads the URL from the stack state when none is given', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'image-push-'));
    mkdirSync(path.join(project, REPOSITORY_STACK_DIR), { recursive: true });
    const { run, calls } = fakeRunner({ terraform: { stdout: JSON.stringify({ repository_url: { value: URL } }) } });
    await expect(pushImage({ tag: 'latest', platform: 'linux/amd64', projectRoot: project }, deps(run).deps)).resolves.toBe(`${URL}:latest`);
    expect(calls[0]?.command).toBe('terraform');
    rmSync(project, { recursive: true, force: true });
  });

  test.each<[string, Record<string, Partial<CommandResult> | Error>, ImagePushDependencies['registryLogin'] | undefined, RegExp]>([
    ['docker is not installed', { docker: notInstalled() }, undefined, /docker CLI is not installed/],
    ['the engine is not running', { 'docker version': { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' } }, undefined, /Docker engine is not reachable \(Cannot connect/],
    ['there are no AWS credentials', {}, async () => { throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }); }, /no AWS credentials were found: set AWS_PROFILE/],
    ['the credentials are refused', {}, async () => { throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' }); }, /refused \(AccessDeniedException\).*ecr:GetAuthorizationToken/],
    ['docker login fails', { 'docker login': { code: 1, stderr: 'denied: bad token' } }, undefined, /docker login .* failed: denied: bad token/],
    ['the build fails', { 'docker build': { code: 1 } }, undefined, /docker build failed/],
    ['the push fails', { 'docker push': { code: 1 } }, undefined, /docker push failed/],
  ])('stops with a clear error when %s', async (_case, answers, login, message) => {
    const { run, calls } = fakeRunner(answers);
    const attempt = pushImage({ repositoryUrl: URL, tag: 'latest', platform: 'linux/amd64' }, deps(run, login).deps);
    await expect(attempt).rejects.toThrow(ImagePushError);
    await expect(attempt).rejects.toThrow(message);
    // Nothing is pushed after a failed step.
    const failedAt = calls.findIndex((call) => `${call.command} ${call.args[0]}` in answers || call.command in answers);
    if (failedAt >= 0) expect(calls.slice(failedAt + 1).some((call) => call.args[0] === 'push')).toBe(false);
  });
});

describe('the command', () => {
  let bin: string;
  let ecr: Server;
  let ecrEndpoint: string;
  const ecrRequests: { target: string | undefined }[] = [];

  beforeAll(async () => {
    // Stand-ins for docker (records its arguments and stdin) and for ECR's API.
    bin = mkdtempSync(path.join(tmpdir(), 'image-push-bin-'));
    writeFileSync(
      path.join(bin, 'docker'),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> "${bin}/docker.log"\nif [ "$1" = login ]; then printf 'stdin:%s\\n' "$(cat)" >> "${bin}/docker.log"; fi\nif [ "$1" = version ]; then echo 27.0.0; fi\n`,
    );
    chmodSync(path.join(bin, 'docker'), 0o755);
    // An empty configuration file: defaults plus the test's PLATFORM_* variables, whatever the checkout holds.
    writeFileSync(path.join(bin, 'platform.config.json'), '{}\n');
    ecr = createServer((request, response) => {
      ecrRequests.push({ target: request.headers['x-amz-target'] as string | undefined });
      request.resume();
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ authorizationData: [{ authorizationToken: Buffer.from('AWS:token-from-ecr').toString('base64'), expiresAt: 2e9, proxyEndpoint: `https://${URL.split('/')[0]}` }] }));
    });
    await new Promise<void>((resolve) => ecr.listen(0, '127.0.0.1', resolve));
    ecrEndpoint = `http://127.0.0.1:${(ecr.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    rmSync(bin, { recursive: true, force: true });
    await new Promise((resolve) => ecr.close(resolve));
  });

  const runCli = (args: string[], env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      // Asynchronous, so the stand-in ECR server in this process can answer.
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'tools', 'image-push.ts'), ...args], {
        cwd: PROJECT_ROOT,
        env: { PATH: `${bin}:${process.env.PATH}`, HOME: bin, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL_ECR: ecrEndpoint, PLATFORM_CONFIG: path.join(bin, 'platform.config.json'), ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status: number | null) => resolve({ status, stdout, stderr }));
    });

  test('pushes with the tag and platform of the platform configuration', async () => {
    const result = await runCli(['--repository-url', URL], { PLATFORM_WEB_IMAGE_TAG: 'release-7', PLATFORM_CLUSTER_INSTANCE_TYPE: 't4g.small' });
    expect(result.stderr).not.toContain('image:push:');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`pushed ${URL}:release-7\nnext: npx cdktf deploy pipeline\n`);
    expect(ecrRequests.map((request) => request.target)).toEqual(['AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken']);
    expect(readFileSync(path.join(bin, 'docker.log'), 'utf8').trim().split('\n')).toEqual([
      'version --format {{.Server.Version}}',
      `login --username AWS --password-stdin ${URL.split('/')[0]}`,
      'stdin:token-from-ecr',
      `build --platform linux/arm64 --file web/Dockerfile --tag ${URL}:release-7 .`,
      `push ${URL}:release-7`,
    ]);
  }, 60_000);

  test('exits 1 with one line saying what to do when the URL is not an ECR repository', async () => {
    const result = await runCli(['--repository-url', 'example.com/web'], {});
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('image:push: "example.com/web" is not an ECR repository URL (expected <account>.dkr.ecr.<region>.amazonaws.com/<name>)');
  }, 60_000);
});

