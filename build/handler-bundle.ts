/**
 * Bundles the Lambda handlers with esbuild into self-contained CommonJS files (AWS SDK
 * and Powertools included, so the code that runs is the code that was tested), and
 * packs them into deterministic zip archives for Lambda.
 *
 * The same bundle runs in Lambda and in the local platform, so both see identical code.
 * Bundles hold no path of the machine: esbuild writes paths relative to the project
 * root, and the zip entries carry a fixed date, so the source hash and the archive
 * bytes depend only on the source, whichever folder the project is checked out in.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync, version as esbuildVersion } from 'esbuild';
import { zipSync } from 'fflate';
import { PROJECT_ROOT } from './project-root';

/** The project root: esbuild resolves entries and writes bundle comments relative to it. */

/** Handler name → entry file, relative to the project root. */
export const HANDLER_ENTRIES = {
  'store-readings': 'handlers/store-readings.ts',
  'threshold-alerts': 'handlers/threshold-alerts.ts',
  'archive-flatten': 'handlers/archive-flatten.ts',
  'no-data-alerts': 'handlers/no-data-alerts.ts',
} as const;

export type HandlerName = keyof typeof HANDLER_ENTRIES;

/** The handlers an event source mapping feeds from the readings stream; the others are invoked by a service (Firehose, EventBridge Scheduler). */
export const STREAM_CONSUMERS = ['store-readings', 'threshold-alerts'] as const satisfies readonly HandlerName[];
export type StreamConsumerName = (typeof STREAM_CONSUMERS)[number];

/** File name of the bundle inside its folder, and the Lambda handler string that points at it. */
export const BUNDLE_FILE = 'index.js';
export const LAMBDA_HANDLER = 'index.handler';

/** Runtime features the bundle may use: Node 20 runs the local platform, Lambda runs Node 22. */
const BUNDLE_TARGET = 'node20';

/** DOS zip dates cannot go earlier; built from local fields because zip dates are local time. */
const FIXED_ZIP_DATE = new Date(1980, 0, 1, 0, 0, 0);

export interface HandlerBundle {
  /** Folder that holds only the bundle. */
  readonly dir: string;
  /** The bundle itself (`<dir>/index.js`); it exports `handler`. */
  readonly file: string;
  /** SHA-256 (hex) of the bundle text: same source, same hash, in any folder. */
  readonly sourceHash: string;
}

export interface PackagedHandler extends HandlerBundle {
  /** Zip archive holding `index.js`, ready for Lambda. */
  readonly archive: string;
  /** Base64 SHA-256 of the archive, as Lambda's `source_code_hash` expects. */
  readonly archiveSha256: string;
}

/** Bundles one handler into `<outDir>/<name>/index.js`. Throws with esbuild's messages when the build fails. */
export function bundleHandler(name: HandlerName, outDir: string): HandlerBundle {
  return bundleHandlers([name], outDir)[name]!;
}

/**
 * Bundles several handlers in one esbuild run (the code they share is parsed once; each
 * bundle is byte for byte what `bundleHandler` makes of it alone).
 */
export function bundleHandlers(names: readonly HandlerName[], outDir: string): Partial<Record<HandlerName, HandlerBundle>> {
  for (const name of names) {
    if (HANDLER_ENTRIES[name] === undefined) {
      throw new Error(`unknown handler "${String(name)}": expected one of ${Object.keys(HANDLER_ENTRIES).join(', ')}`);
    }
  }
  const bundles = bundleEntries(names.map((name) => ({ entry: HANDLER_ENTRIES[name], dir: path.join(outDir, name) })));
  return Object.fromEntries(names.map((name, index) => [name, bundles[index]!]));
}

/**
 * Bundles any entry file (relative to the project root, or absolute) into `<dir>/index.js`.
 * `bundleHandler` is the usual way in; this one exists for entries outside `HANDLER_ENTRIES`.
 */
export function bundleEntry(entry: string, dir: string): HandlerBundle {
  return bundleEntries([{ entry, dir }])[0]!;
}

const BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: BUNDLE_TARGET,
  format: 'cjs',
  // The SDK's ES module builds tree-shake far better than its CommonJS ones.
  mainFields: ['module', 'main'],
  // A symlinked node_modules (a second checkout sharing one) keeps its in-project path in bundle comments.
  preserveSymlinks: true,
  logLevel: 'silent',
} as const;

/**
 * What a bundle was built from, kept beside it (`<dir>.inputs.json`): when every input file
 * still has the same content, the bundle is reused instead of rebuilt. Inputs are listed
 * relative to the project root, so the record holds no path of the machine.
 */
interface BuildRecord {
  readonly fingerprint: string;
  /** Input → its SHA-256, and the size and modification time it had then (a cheap first check). */
  readonly inputs: Record<string, { readonly sha256: string; readonly size: number; readonly mtimeMs: number }>;
  readonly sourceHash: string;
  /** When the record was written (epoch ms). */
  readonly recordedAtMs: number;
}

/**
 * File times have coarse granularity: a file changed within this margin before the record
 * was written may keep its recorded time, so only older times are trusted (as git does).
 */
const RACY_MARGIN_MS = 2_000;

function inputState(input: string): BuildRecord['inputs'][string] {
  const file = path.resolve(PROJECT_ROOT, input);
  const { size, mtimeMs } = statSync(file);
  return { sha256: sha256(readFileSync(file)), size, mtimeMs };
}

/** Same content: same size and an old enough, unchanged time, or else the same hash (a copy changes times, not contents). */
function unchanged(input: string, recorded: BuildRecord['inputs'][string], recordedAtMs: number): boolean {
  const file = path.resolve(PROJECT_ROOT, input);
  const { size, mtimeMs } = statSync(file);
  if (size !== recorded.size) return false;
  if (mtimeMs === recorded.mtimeMs && mtimeMs < recordedAtMs - RACY_MARGIN_MS) return true;
  return sha256(readFileSync(file)) === recorded.sha256;
}

const sha256 = (data: Uint8Array | string, encoding: 'hex' | 'base64' = 'hex') => createHash('sha256').update(data).digest(encoding);
const recordPath = (dir: string) => `${dir}.inputs.json`;
/** Changes with esbuild, the options and the entry; the inputs' contents are checked one by one. */
const fingerprintOf = (entry: string) => sha256(JSON.stringify({ esbuild: esbuildVersion, options: BUILD_OPTIONS, entry }));

function reusable(entry: string, dir: string): HandlerBundle | undefined {
  try {
    const record = JSON.parse(readFileSync(recordPath(dir), 'utf8')) as BuildRecord;
    if (record.fingerprint !== fingerprintOf(entry)) return undefined;
    for (const [input, recorded] of Object.entries(record.inputs)) {
      if (!unchanged(input, recorded, record.recordedAtMs)) return undefined;
    }
    const file = path.join(dir, BUNDLE_FILE);
    if (sha256(readFileSync(file)) !== record.sourceHash) return undefined;
    return { dir, file, sourceHash: record.sourceHash };
  } catch {
    // No record, a vanished input or bundle: build again.
    return undefined;
  }
}

function bundleEntries(requests: readonly { entry: string; dir: string }[]): HandlerBundle[] {
  const targets = requests.map(({ entry, dir }) => ({ entry: path.relative(PROJECT_ROOT, path.resolve(PROJECT_ROOT, entry)), dir: path.resolve(dir) }));
  for (const { entry } of targets) {
    if (!existsSync(path.resolve(PROJECT_ROOT, entry))) throw new Error(`cannot bundle ${entry}: the file does not exist`);
  }
  const results = targets.map(({ entry, dir }) => reusable(entry, dir));
  const stale = targets.filter((_, index) => results[index] === undefined);
  if (stale.length === 0) return results as HandlerBundle[];

  // Outputs are named from the file system's root, so each lands at exactly <dir>/index.js.
  const root = path.parse(PROJECT_ROOT).root;
  const built = buildSync({
    ...BUILD_OPTIONS,
    absWorkingDir: PROJECT_ROOT,
    entryPoints: stale.map(({ entry, dir }) => ({ in: path.resolve(PROJECT_ROOT, entry), out: path.relative(root, path.join(dir, 'index')) })),
    outdir: root,
    write: false,
    metafile: true,
    mainFields: [...BUILD_OPTIONS.mainFields],
  });
  for (const { entry, dir } of stale) {
    const file = path.join(dir, BUNDLE_FILE);
    const output = built.outputFiles.find((candidate) => candidate.path === file);
    const meta = Object.entries(built.metafile.outputs).find(([outputPath]) => path.resolve(PROJECT_ROOT, outputPath) === file)?.[1];
    if (output === undefined || meta === undefined) throw new Error(`esbuild wrote no output for ${entry}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, output.contents);
    const sourceHash = sha256(output.contents);
    const inputs = Object.fromEntries(
      Object.keys(meta.inputs).map((input) => {
        const relative = path.relative(PROJECT_ROOT, path.resolve(PROJECT_ROOT, input));
        return [relative, inputState(relative)];
      }),
    );
    const record: BuildRecord = { fingerprint: fingerprintOf(entry), inputs, sourceHash, recordedAtMs: Date.now() };
    writeFileSync(recordPath(dir), `${JSON.stringify(record, null, 1)}\n`);
    results[targets.findIndex((target) => target.dir === dir)] = { dir, file, sourceHash };
  }
  return results as HandlerBundle[];
}

/** Bundles one handler and packs it as `<outDir>/<name>.zip` with fixed entry dates. */
export function packageHandler(name: HandlerName, outDir: string): PackagedHandler {
  return packageBundle(name, bundleHandler(name, outDir), outDir);
}

function packageBundle(name: HandlerName, bundle: HandlerBundle, outDir: string): PackagedHandler {
  const archive = path.join(outDir, `${name}.zip`);
  // `<name>.zip.source` names the bundle the archive was made from, so an unchanged bundle is not zipped again.
  const sourceNote = `${archive}.source`;
  try {
    if (readFileSync(sourceNote, 'utf8') === bundle.sourceHash) return { ...bundle, archive, archiveSha256: sha256(readFileSync(archive), 'base64') };
  } catch {
    // No archive yet.
  }
  const zip = zipSync({ [BUNDLE_FILE]: [readFileSync(bundle.file), { mtime: FIXED_ZIP_DATE, level: 6 }] });
  writeFileSync(archive, zip);
  writeFileSync(sourceNote, bundle.sourceHash);
  return { ...bundle, archive, archiveSha256: sha256(zip, 'base64') };
}

/** Bundles (in one esbuild run) and packs every handler of `HANDLER_ENTRIES` into `outDir`. */
export function packageHandlers(outDir: string): Record<HandlerName, PackagedHandler> {
  const names = Object.keys(HANDLER_ENTRIES) as HandlerName[];
  const bundles = bundleHandlers(names, outDir);
  return Object.fromEntries(names.map((name) => [name, packageBundle(name, bundles[name]!, outDir)])) as Record<HandlerName, PackagedHandler>;
}
