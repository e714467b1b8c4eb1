/**
 * The handler bundles for the local platform, built with the same esbuild step as for
 * Lambda (build/handler-bundle.ts) and reused across starts while nothing they are built
 * from has changed, so `npm start` stays within its few seconds.
 *
 * What a bundle is built from: the handler sources, the bundling step itself, the
 * locked dependency versions, and the runtime's worker script. A change to any of them
 * rebuilds every bundle.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { bundleHandler, HANDLER_ENTRIES, PROJECT_ROOT, type HandlerName } from '../build/handler-bundle';
import { bundleLambdaWorker } from './lambda-runtime';

export interface LocalBundles {
  readonly handlers: ReadonlyMap<HandlerName, string>;
  readonly worker: string;
  /** False when every bundle was reused. */
  readonly rebuilt: boolean;
}

const SOURCES = ['handlers', 'build/handler-bundle.ts', 'local/lambda-worker.ts', 'package-lock.json'];

/** A digest of every file the bundles are built from. */
export function bundleSourceKey(root: string = PROJECT_ROOT): string {
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

/** Bundles the handlers and the worker into `buildDir`, unless the bundles there are from the same sources. */
export function localBundles(buildDir: string): LocalBundles {
  const keyFile = path.join(buildDir, 'source-key');
  const key = bundleSourceKey();
  const names = Object.keys(HANDLER_ENTRIES) as HandlerName[];
  const files = new Map(names.map((name) => [name, path.join(buildDir, name, 'index.js')]));
  const worker = path.join(buildDir, 'lambda-worker', 'index.js');
  const current = existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key && [...files.values(), worker].every((file) => existsSync(file));
  if (current) return { handlers: files, worker, rebuilt: false };

  for (const name of names) files.set(name, bundleHandler(name, buildDir).file);
  const built = bundleLambdaWorker(buildDir);
  writeFileSync(keyFile, key);
  return { handlers: files, worker: built, rebuilt: true };
}
