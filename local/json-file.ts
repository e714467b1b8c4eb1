/**
 * Small JSON state files of the local platform (checkpoints, queue messages): written
 * whole to a temporary file and renamed over the old one, so a crash mid-write leaves
 * the previous version rather than half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** The parsed file, or `fallback` when it does not exist yet. A corrupt file is an error, never silently reset. */
export function readJsonFile<T>(file: string, fallback: T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); move it away or start with --clean`);
  }
}

/** Replaces `file` atomically with the JSON of `value`. */
export function writeJsonFile(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, file);
}
