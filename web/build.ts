/**
 * Builds what the container runs (web/Dockerfile's build stage runs this file):
 *
 *   dist/web/server.js   the process entry with every dependency bundled in, so the
 *                        runtime image needs no node_modules
 *   dist/web/public/     the dashboard, prebuilt (server.js finds it beside itself)
 *
 * Usage: tsx web/build.ts [outDir]   (default dist/web, relative to the project root)
 */
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { buildDashboardAssets, writeDashboardAssets } from './assets';

/** Not build/project-root.ts: the image's build stage copies only handlers/ and web/ (web/Dockerfile). */
const PROJECT_ROOT = path.resolve(__dirname, '..');
export const DEFAULT_OUT_DIR = path.join(PROJECT_ROOT, 'dist', 'web');

export interface WebBuild {
  readonly server: string;
  readonly publicDir: string;
}

export async function buildWebBundle(outDir: string = DEFAULT_OUT_DIR): Promise<WebBuild> {
  rmSync(outDir, { recursive: true, force: true });
  const server = path.join(outDir, 'server.js');
  await build({
    entryPoints: [path.join(PROJECT_ROOT, 'web', 'server.ts')],
    outfile: server,
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // Only the development path (no prebuilt dashboard) loads esbuild; the image never does.
    external: ['esbuild'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  const publicDir = path.join(outDir, 'public');
  writeDashboardAssets(await buildDashboardAssets(), publicDir);
  return { server, publicDir };
}

if (require.main === module) {
  buildWebBundle(process.argv[2] === undefined ? undefined : path.resolve(process.argv[2]))
    .then((result) => console.log(`built ${path.relative(process.cwd(), result.server)} and ${path.relative(process.cwd(), result.publicDir)}/`))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
