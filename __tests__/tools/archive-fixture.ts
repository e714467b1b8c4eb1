/**
 * Local archive objects laid out as Firehose writes them, for the query tool's tests and
 * `npm run bench:query`: `<data dir>/archive/<bucket>/readings/year=.../hour=HH/` +
 * `<stream>-1-<yyyy-MM-dd-HH-mm-ss>-<id>.jsonl.gz`, each gzipped and holding the archive
 * lines (handlers/archive-format.ts) of its readings, a newline after each
 * (https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { archiveLines, archivePrefixAt } from '../../handlers/archive-format';
import { parseReading, type Reading } from '../../handlers/reading';
import { LOCAL_ARCHIVE_DIR } from '../../tools/query-local';

export const FIXTURE_BUCKET = 'iot-archive-20261130000000000000000001';
const STREAM = 'iot-archive';

/** A reading from its JSON form, as the processor parses it; throws on a bad one (fixtures must be valid). */
export function reading(data: Record<string, unknown>): Reading {
  const parsed = parseReading(data);
  if (!parsed.ok) throw new Error(`bad fixture reading: ${parsed.error.message}`);
  return parsed.value;
}

let objects = 0;

/** Writes one archive object of `readings`, received by Firehose at `arrival`; returns its path. */
export function writeArchiveObject(dataDir: string, arrival: Date, readings: readonly Reading[], bucket: string = FIXTURE_BUCKET): string {
  const stamp = arrival.toISOString().slice(0, 19).replace(/[T:]/g, '-');
  const file = path.join(dataDir, LOCAL_ARCHIVE_DIR, bucket, archivePrefixAt(arrival), `${STREAM}-1-${stamp}-${String(++objects).padStart(8, '0')}.jsonl.gz`);
  mkdirSync(path.dirname(file), { recursive: true });
  const text = readings.flatMap(archiveLines).map((line) => `${line}\n`).join('');
  writeFileSync(file, gzipSync(text, { level: 1 }));
  return file;
}
