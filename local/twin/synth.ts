/**
 * The synthesized stacks the local twin runs: `npm run synth`'s output, made again only
 * when something it is built from changed.
 *
 * - With the user's configuration (`npm start`): synthesized into `cdktf.out/`, exactly as
 *   `npm run synth` does, and reused while the sources, the configuration file, the
 *   `PLATFORM_*` variables and the synthesized pipeline stack itself are unchanged (an
 *   edited `cdk.tf.json` is synthesized again unless `--no-synth` says to run it as it is).
 * - With a given configuration (tests, drills, benchmarks): synthesized into a cache
 *   folder named after the sources and that configuration, so every run and every test
 *   with the same configuration shares one synth, and `cdktf.out/` is left alone.
 *
 * One synth runs at a time per checkout (a lock file): they all bundle the handlers into
 * the same folder.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONFIG_ENV_PREFIX, CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE } from '../../stacks/config';
import { SYNTH_OUTDIR, type StackName } from '../../stacks/output-names';
import { acquireInstanceLock, PlatformAlreadyRunningError, type InstanceLock } from '../instance-lock';
import { PROJECT_ROOT } from '../../build/project-root';


/** What a synth is built from, relative to the project root. */
const SOURCES = ['main.ts', 'cdktf.json', 'package-lock.json', 'tsconfig.json', 'stacks', 'handlers', 'build', 'policy'];

/** Cached synths kept for given configurations; older ones are removed. */
const CACHE_KEPT = 8;
/** Longest wait for another process's synth. */
const LOCK_WAIT_MS = 5 * 60_000;

/** The platform configuration as `platform.config.json` holds it (every field optional). */
export type ConfigurationFile = Readonly<Record<string, unknown>>;

export interface SynthOptions {
  /**
   * The configuration to synthesize with, whatever the checkout's `platform.config.json`
   * and the `PLATFORM_*` variables say; the synth goes to a cache folder. Absent: the
   * user's configuration, into `cdktf.out/`.
   */
  readonly configuration?: ConfigurationFile;
  /** The project to synthesize (its `main.ts`). @default PROJECT_ROOT */
  readonly root?: string;
}

export interface SynthesizedStacks {
  /** The folder holding `stacks/<name>/cdk.tf.json`. */
  readonly outdir: string;
  /** False when the stacks were synthesized for this call. */
  readonly reused: boolean;
  stackFile(name: StackName): string;
}

export class SynthError extends Error {
  override readonly name = 'SynthError';
}

export const stackFileIn = (outdir: string, name: StackName): string => path.join(outdir, 'stacks', name, 'cdk.tf.json');

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** A digest of every source file of the synth. */
export function synthSourceKey(root: string = PROJECT_ROOT): string {
  const hash = createHash('sha256');
  const add = (relative: string) => {
    const full = path.join(root, relative);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const child of readdirSync(full).sort()) add(path.join(relative, child));
      return;
    }
    hash.update(relative).update('\0').update(readFileSync(full)).update('\0');
  };
  for (const source of SOURCES) add(source);
  return hash.digest('hex');
}

/** The user's configuration as the synth will read it: the file's text and the `PLATFORM_*` variables. */
function userConfigurationKey(root: string, env: NodeJS.ProcessEnv): string {
  const named = env[CONFIG_FILE_ENV];
  const file = named !== undefined && named !== '' ? path.resolve(named) : path.join(root, DEFAULT_CONFIG_FILE);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const variables = Object.entries(env)
    .filter(([name]) => name.startsWith(CONFIG_ENV_PREFIX))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify({ file, text, variables });
}

/** JSON with sorted keys, so equal configurations give equal keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export async function synthesizeStacks(options: SynthOptions = {}): Promise<SynthesizedStacks> {
  const root = options.root ?? PROJECT_ROOT;
  const cacheDir = path.join(root, 'node_modules', '.cache', 'local-twin');
  mkdirSync(cacheDir, { recursive: true });
  const lock = await waitForLock(path.join(cacheDir, 'synth.lock'));
  try {
    return options.configuration === undefined ? await synthForUser(root) : await synthCached(root, cacheDir, options.configuration);
  } finally {
    lock.release();
  }
}

/** Into `cdktf.out/`, with the user's configuration, unless the record there says it is current. */
async function synthForUser(root: string): Promise<SynthesizedStacks> {
  const outdir = path.join(root, SYNTH_OUTDIR);
  const recordFile = path.join(outdir, 'local-twin.json');
  const key = sha256(`${synthSourceKey(root)}\0${userConfigurationKey(root, process.env)}`);
  const pipeline = stackFileIn(outdir, 'pipeline');
  const result = (reused: boolean): SynthesizedStacks => ({ outdir, reused, stackFile: (name) => stackFileIn(outdir, name) });
  try {
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { key?: string; pipeline?: string };
    if (record.key === key && record.pipeline === sha256(readFileSync(pipeline))) return result(true);
  } catch {
    // No record, or no synthesized stack: synthesize.
  }
  await runSynth(root, root, process.env);
  writeFileSync(recordFile, `${JSON.stringify({ key, pipeline: sha256(readFileSync(pipeline)) }, null, 1)}\n`);
  return result(false);
}

/** Into the cache folder of this configuration and these sources. */
async function synthCached(root: string, cacheDir: string, configuration: ConfigurationFile): Promise<SynthesizedStacks> {
  const key = sha256(`${synthSourceKey(root)}\0${canonical(configuration)}`).slice(0, 24);
  const outdir = path.join(cacheDir, key);
  const result = (reused: boolean): SynthesizedStacks => ({ outdir, reused, stackFile: (name) => stackFileIn(outdir, name) });
  if (existsSync(stackFileIn(outdir, 'pipeline'))) {
    const now = new Date();
    utimesSync(outdir, now, now);
    return result(true);
  }
  const work = path.join(cacheDir, `work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const configFile = path.join(work, 'platform.config.json');
    writeFileSync(configFile, JSON.stringify(configuration));
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith(CONFIG_ENV_PREFIX)));
    await runSynth(root, work, { ...env, [CONFIG_FILE_ENV]: configFile });
    rmSync(outdir, { recursive: true, force: true });
    renameSync(path.join(work, SYNTH_OUTDIR), outdir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  prune(cacheDir);
  return result(false);
}

/** `npm run synth` (main.ts under tsx) in `cwd`, which receives `cdktf.out/`. */
async function runSynth(root: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'main.ts')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new SynthError(`synthesizing the stacks failed (npm run synth):\n${Buffer.concat(output).toString().trim()}`);
}

async function waitForLock(file: string): Promise<InstanceLock> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      return acquireInstanceLock(file, path.dirname(file));
    } catch (error) {
      if (!(error instanceof PlatformAlreadyRunningError)) throw error;
      if (Date.now() > deadline) throw new SynthError(`another synth (process ${error.owner.pid}) has held ${file} for over ${LOCK_WAIT_MS / 60_000} minutes`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Keeps the most recently used cached synths. */
function prune(cacheDir: string): void {
  const entries = readdirSync(cacheDir)
    .filter((name) => /^[0-9a-f]{24}$/.test(name))
    .map((name) => ({ name, used: statSync(path.join(cacheDir, name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const stale of entries.slice(CACHE_KEPT)) rmSync(path.join(cacheDir, stale.name), { recursive: true, force: true });
}
