/**
 * The local Lambda runtime's worker script (lambda-worker.ts), bundled with the same
 * esbuild step as the handlers and reused across starts while nothing it is built from
 * has changed, so `npm start` stays within its few seconds. The functions' own code comes
 * from the zips of the synthesized stack.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { bundleLambdaWorker } from './lambda-runtime';
import { PROJECT_ROOT } from '../build/project-root';

const SOURCES = ['local/lambda-worker.ts', 'build/handler-bundle.ts', 'package-lock.json'];

/** A digest of every file the worker bundle is built from. */
export function workerSourceKey(root: string = PROJECT_ROOT): string {
  const hash = createHash('sha256');
  for (const source of SOURCES) hash.update(source).update('\0').update(readFileSync(path.join(root, source))).update('\0');
  return hash.digest('hex');
}

/** The worker bundle in `buildDir`, built unless the one there is from the same sources. */
export function localWorker(buildDir: string): string {
  const keyFile = path.join(buildDir, 'source-key');
  const worker = path.join(buildDir, 'lambda-worker', 'index.js');
  const key = workerSourceKey();
  if (existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key && existsSync(worker)) return worker;
  const built = bundleLambdaWorker(buildDir);
  writeFileSync(keyFile, key);
  return built;
}
