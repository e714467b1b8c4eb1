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
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { zipSync } from 'fflate';

/** The project root: esbuild resolves entries and writes bundle comments relative to it. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Handler name → entry file, relative to the project root. */
export const HANDLER_ENTRIES = {
  'store-readings': 'handlers/store-readings.ts',
  'threshold-alerts': 'handlers/threshold-alerts.ts',
} as const;

export type HandlerName = keyof typeof HANDLER_ENTRIES;

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
  const entry = HANDLER_ENTRIES[name];
  if (entry === undefined) {
    throw new Error(`unknown handler "${String(name)}": expected one of ${Object.keys(HANDLER_ENTRIES).join(', ')}`);
  }
  return bundleEntry(entry, path.join(outDir, name));
}

/**
 * Bundles any entry file (relative to the project root, or absolute) into `<dir>/index.js`.
 * `bundleHandler` is the usual way in; this one exists for entries outside `HANDLER_ENTRIES`.
 */
export function bundleEntry(entry: string, dir: string): HandlerBundle {
  const entryPath = path.resolve(PROJECT_ROOT, entry);
  if (!existsSync(entryPath)) throw new Error(`cannot bundle ${entry}: the file does not exist`);
  const result = buildSync({
    entryPoints: [entryPath],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    target: BUNDLE_TARGET,
    format: 'cjs',
    // The SDK's ES module builds tree-shake far better than its CommonJS ones.
    mainFields: ['module', 'main'],
    // A symlinked node_modules (a second checkout sharing one) keeps its in-project path in bundle comments.
    preserveSymlinks: true,
    outfile: path.join(dir, BUNDLE_FILE),
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild wrote no output for ${entry}`);

  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, BUNDLE_FILE);
  writeFileSync(file, output.contents);
  return { dir, file, sourceHash: createHash('sha256').update(output.contents).digest('hex') };
}

/** Bundles one handler and packs it as `<outDir>/<name>.zip` with fixed entry dates. */
export function packageHandler(name: HandlerName, outDir: string): PackagedHandler {
  const bundle = bundleHandler(name, outDir);
  const archive = path.join(outDir, `${name}.zip`);
  const zip = zipSync({ [BUNDLE_FILE]: [readFileSync(bundle.file), { mtime: FIXED_ZIP_DATE, level: 9 }] });
  writeFileSync(archive, zip);
  return { ...bundle, archive, archiveSha256: createHash('sha256').update(zip).digest('base64') };
}

/** Packs every handler of `HANDLER_ENTRIES` into `outDir`. */
export function packageHandlers(outDir: string): Record<HandlerName, PackagedHandler> {
  const names = Object.keys(HANDLER_ENTRIES) as HandlerName[];
  return Object.fromEntries(names.map((name) => [name, packageHandler(name, outDir)])) as Record<HandlerName, PackagedHandler>;
}
