/**
 * The dashboard's files: its TypeScript and CSS (with uPlot from npm) bundled by esbuild
 * into content-hashed files, and the page that loads them. Nothing comes from a CDN, so
 * the dashboard works offline.
 *
 * In development and in the local platform the bundle is built in memory at start
 * (once per process, well under a second); the container image ships it prebuilt
 * (web/build.ts), so the runtime image needs no esbuild.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface DashboardFile {
  readonly body: Buffer;
  readonly contentType: string;
  /** Content-hashed files never change, so browsers may keep them for good. */
  readonly immutable: boolean;
}

/** URL path (`/`, `/assets/main-XXXX.js`, ...) → file. */
export type DashboardAssets = ReadonlyMap<string, DashboardFile>;

const DASHBOARD_DIR = path.join(__dirname, 'dashboard');
const MANIFEST = 'manifest.json';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** Bundles the dashboard with esbuild, in memory. Throws with esbuild's messages if the source does not build. */
export async function buildDashboardAssets(): Promise<DashboardAssets> {
  // Loaded here, not at the top: the prebuilt container bundle never needs esbuild.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(DASHBOARD_DIR, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    outdir: '/assets',
    entryNames: '[name]-[hash]',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  const assets = new Map<string, DashboardFile>();
  let script: string | undefined;
  let style: string | undefined;
  for (const file of result.outputFiles) {
    const extension = path.extname(file.path);
    const urlPath = `/assets/${path.basename(file.path)}`;
    assets.set(urlPath, { body: Buffer.from(file.contents), contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream', immutable: true });
    if (extension === '.js') script = urlPath;
    if (extension === '.css') style = urlPath;
  }
  if (script === undefined || style === undefined) throw new Error('the dashboard bundle produced no script or no stylesheet');
  const page = readFileSync(path.join(DASHBOARD_DIR, 'index.html'), 'utf8').replace('%SCRIPT%', script).replace('%STYLE%', style);
  assets.set('/', { body: Buffer.from(page), contentType: CONTENT_TYPES['.html'] as string, immutable: false });
  return assets;
}

let memoised: Promise<DashboardAssets> | undefined;

/** The in-memory bundle, built once per process and shared by every app instance. */
export function dashboardAssets(): Promise<DashboardAssets> {
  if (memoised === undefined) {
    const building = buildDashboardAssets();
    memoised = building;
    // A failed build is not kept: the next app tries again.
    building.catch(() => (memoised = building === memoised ? undefined : memoised));
  }
  return memoised;
}

interface ManifestEntry {
  readonly file: string;
  readonly contentType: string;
  readonly immutable: boolean;
}

/** Writes the assets into `dir` with a manifest, for the container image. */
export function writeDashboardAssets(assets: DashboardAssets, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const manifest: Record<string, ManifestEntry> = {};
  for (const [urlPath, asset] of assets) {
    const file = urlPath === '/' ? 'index.html' : path.basename(urlPath);
    writeFileSync(path.join(dir, file), asset.body);
    manifest[urlPath] = { file, contentType: asset.contentType, immutable: asset.immutable };
  }
  writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Reads assets written by `writeDashboardAssets`. */
export function readDashboardAssets(dir: string): DashboardAssets {
  const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as Record<string, ManifestEntry>;
  const assets = new Map<string, DashboardFile>();
  for (const [urlPath, entry] of Object.entries(manifest)) {
    assets.set(urlPath, { body: readFileSync(path.join(dir, entry.file)), contentType: entry.contentType, immutable: entry.immutable });
  }
  return assets;
}
