/**
 * The container, without a Docker engine: every path web/Dockerfile copies must exist
 * (sources in the build context and not excluded by .dockerignore; build outputs after
 * the build stage's own commands have run), and the file the image runs must serve.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { startDynalite, type DynaliteHarness } from '../handlers/dynalite-harness';
import { PROJECT_ROOT } from '../../build/project-root';

const DOCKERFILE = path.join(PROJECT_ROOT, 'web', 'Dockerfile');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}

/** Dockerfile instructions by stage (comments dropped, continuation lines joined). */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from, ...(name === undefined ? {} : { name }), instructions: [] });
    } else {
      stages[stages.length - 1]?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** COPY's flags, sources and destination. */
function parseCopy(args: string): { from?: string; sources: string[]; destination: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((word) => word.startsWith('--'));
  const paths = words.filter((word) => !word.startsWith('--'));
  const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
  return { ...(from === undefined ? {} : { from }), sources: paths.slice(0, -1), destination: paths[paths.length - 1] as string };
}

/** .dockerignore rules in order; the last rule matching a path (or one of its parent folders) decides. */
function dockerignore(text: string): (relativePath: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const glob = (include ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
      const source = glob
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) => ({ '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' })[part] ?? part.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
        .join('');
      return { include, pattern: new RegExp(`^${source}$`) };
    });
  return (relativePath) => {
    const parts = relativePath.split('/');
    const candidates = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    let excluded = false;
    for (const rule of rules) if (candidates.some((candidate) => rule.pattern.test(candidate))) excluded = !rule.include;
    return excluded;
  };
}

function filesUnder(absolute: string): string[] {
  if (!statSync(absolute).isDirectory()) return [absolute];
  return readdirSync(absolute).flatMap((entry) => filesUnder(path.join(absolute, entry)));
}

const stages = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const build = stages.find((stage) => stage.name === 'build') as Stage;
const runtime = stages[stages.length - 1] as Stage;
const workdir = (stage: Stage) => stage.instructions.filter((instruction) => instruction.keyword === 'WORKDIR').pop()?.args ?? '/';

describe('web/Dockerfile', () => {
  test('is multi-stage on the Node 22 line, and the runtime runs as a non-root user on port 5000 with a health check', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:22-(alpine|slim)/);
    const last = (keyword: string) => runtime.instructions.filter((instruction) => instruction.keyword === keyword).pop()?.args;
    expect(last('USER')).toBeDefined();
    expect(last('USER')).not.toMatch(/^(root|0)(:|$)/);
    expect(last('EXPOSE')).toBe('5000');
    expect(last('HEALTHCHECK')).toMatch(/\/livez'/);
    expect(last('CMD')).toBe('["node", "server.js"]');
  });

  test('every source it copies from the build context exists and is not excluded by .dockerignore', () => {
    const ignored = dockerignore(readFileSync(path.join(PROJECT_ROOT, '.dockerignore'), 'utf8'));
    const copies = stages.flatMap((stage) => stage.instructions).filter((instruction) => instruction.keyword === 'COPY').map((instruction) => parseCopy(instruction.args));
    const fromContext = copies.filter((copy) => copy.from === undefined).flatMap((copy) => copy.sources);
    expect(fromContext).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'handlers', 'web']));
    for (const source of fromContext) {
      const absolute = path.join(PROJECT_ROOT, source);
      expect([source, existsSync(absolute)]).toEqual([source, true]);
      const files = filesUnder(absolute).map((file) => path.relative(PROJECT_ROOT, file).split(path.sep).join('/'));
      const sent = files.filter((file) => !ignored(file));
      expect([source, sent.length > 0]).toEqual([source, true]);
      // Every module the bundle needs is in the context; tests are not.
      for (const file of files.filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))) expect([file, ignored(file)]).toEqual([file, false]);
    }
    expect(ignored('node_modules/fastify/package.json')).toBe(true);
    expect(ignored('cdktf.out/stacks/repository/terraform.tfstate')).toBe(true);
    expect(ignored('web/app.ts')).toBe(false);
  });

  test('the web sources import nothing outside what it copies', () => {
    const copied = build.instructions.filter((instruction) => instruction.keyword === 'COPY').flatMap((instruction) => parseCopy(instruction.args).sources);
    const webFiles = filesUnder(path.join(PROJECT_ROOT, 'web')).filter((file) => file.endsWith('.ts'));
    for (const file of webFiles) {
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = path.relative(PROJECT_ROOT, path.resolve(path.dirname(file), specifier as string)).split(path.sep)[0];
        expect([file, copied.includes(target as string)]).toEqual([file, true]);
      }
    }
  });

  describe('after the build stage has run', () => {
    let db: DynaliteHarness;
    let server: ChildProcess | undefined;

    beforeAll(async () => {
      // Run the build stage's own commands (all but the dependency install, already done here).
      const commands = build.instructions.filter((instruction) => instruction.keyword === 'RUN' && !/\bnpm ci\b/.test(instruction.args));
      expect(commands.length).toBeGreaterThan(0);
      for (const command of commands) {
        const result = spawnSync('sh', ['-c', command.args], { cwd: PROJECT_ROOT, encoding: 'utf8' });
        if (result.status !== 0) throw new Error(`"${command.args}" failed:\n${result.stderr}`);
      }
      db = await startDynalite();
    }, 120_000);

    let dynamoStopped = false;
    afterAll(async () => {
      server?.kill('SIGKILL');
      if (!dynamoStopped) await db?.stop();
    });

    /** Runs the image's HEALTHCHECK command against the server at `base`; its exit status. */
    function containerHealthCheck(base: string): number | null {
      const command = JSON.parse((runtime.instructions.find((instruction) => instruction.keyword === 'HEALTHCHECK')?.args ?? '').replace(/^.*?CMD\s+/, '')) as string[];
      expect(command[0]).toBe('node');
      const result = spawnSync(process.execPath, command.slice(1), { env: { PATH: process.env.PATH, PORT: new URL(base).port }, encoding: 'utf8', timeout: 20_000 });
      return result.status;
    }

    test('every path the runtime stage copies from it exists', () => {
      const buildRoot = workdir(build);
      const fromBuild = runtime.instructions.filter((instruction) => instruction.keyword === 'COPY').map((instruction) => parseCopy(instruction.args)).filter((copy) => copy.from === 'build');
      expect(fromBuild.length).toBeGreaterThan(0);
      for (const copy of fromBuild) {
        for (const source of copy.sources) {
          expect(source.startsWith(`${buildRoot}/`)).toBe(true);
          const local = path.join(PROJECT_ROOT, path.relative(buildRoot, source));
          expect([source, existsSync(local)]).toEqual([source, true]);
        }
      }
      // The CMD's file is among them, with its prebuilt dashboard beside it.
      const output = path.join(PROJECT_ROOT, path.relative(buildRoot, (fromBuild[0] as { sources: string[] }).sources[0] as string));
      expect(existsSync(path.join(output, 'server.js'))).toBe(true);
      expect(existsSync(path.join(output, 'public', 'manifest.json'))).toBe(true);
    });

    test('the bundled server serves the API and the prebuilt dashboard from DynamoDB, and stops cleanly on SIGTERM', async () => {
      await db.document.send(
        new PutCommand({ TableName: db.tables.series, Item: { ThingID: 'things/box/1/temperature', LatestTimestamp: '2016-09-09T13:33:07.381019Z', LatestValue: 19.57 } }),
      );
      const output = path.join(PROJECT_ROOT, 'dist', 'web');
      // Run from an empty folder: the bundle must not need node_modules.
      server = spawn(process.execPath, [path.join(output, 'server.js')], {
        cwd: '/',
        env: { PATH: process.env.PATH, ...db.env, PORT: '0', HOST: '127.0.0.1', NODE_PATH: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let logs = '';
      server.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
      server.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the server did not start:\n${logs}`)), 20_000);
        server?.stdout?.on('data', () => {
          const url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(logs)?.[1];
          if (url !== undefined) {
            clearTimeout(timer);
            resolve(url);
          }
        });
        server?.once('exit', (code) => reject(new Error(`the server exited (${code}):\n${logs}`)));
      });

      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', tables: Object.values(db.tables).map((table) => expect.objectContaining({ table, status: 'ok' })) });
      expect(await (await fetch(`${base}/livez`)).json()).toEqual({ status: 'ok' });
      expect(containerHealthCheck(base)).toBe(0);
      const series = (await (await fetch(`${base}/api/series`)).json()) as { series: { series: string; latestValue: number; status: string }[] };
      // Its one reading is from 2016: long past the window a temperature may stay silent.
      expect(series.series).toEqual([expect.objectContaining({ series: 'things/box/1/temperature', latestValue: 19.57, status: 'no-data' })]);
      const page = await (await fetch(`${base}/`)).text();
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
      expect((await fetch(`${base}${script}`)).status).toBe(200);

      // DynamoDB gone: readiness and the API say so, the container's own check still passes (no restart loop).
      await db.stop();
      dynamoStopped = true;
      // The last ready answer is reused for a second.
      let unready = await fetch(`${base}/healthz`);
      for (let tries = 0; unready.status === 200 && tries < 20; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        unready = await fetch(`${base}/healthz`);
      }
      expect(unready.status).toBe(503);
      expect(await unready.json()).toMatchObject({ status: 'unavailable', message: expect.stringMatching(/^The data store \(DynamoDB\) cannot be reached/) });
      const readings = await fetch(`${base}/api/readings?thing=things/box/1/temperature`);
      expect(readings.status).toBe(503);
      expect(await readings.json()).toMatchObject({ error: 'unavailable' });
      expect(containerHealthCheck(base)).toBe(0);

      // 'close', not 'exit': only then has everything the server wrote to its pipes been read.
      const exit = new Promise<number | null>((resolve) => server?.once('close', resolve));
      server.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(logs).toMatch(/stopping: finishing requests in flight/);
      server = undefined;
      // And the check does fail when nothing answers.
      expect(containerHealthCheck(base)).toBe(1);
    });
  });
});
