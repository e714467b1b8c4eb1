/**
 * Where each local event source mapping has got to in each shard: the sequence number of
 * the last record it is done with (stored, or sent to the failure destination). Kept in
 * a file so a restarted platform resumes right after it: nothing skipped, and at most the
 * batch in flight at a crash delivered again (the handlers' writes are idempotent).
 */
import { readJsonFile, writeJsonFile } from './json-file';

export class CheckpointStore {
  private readonly positions: Record<string, string>;

  /** In memory only when `file` is absent. */
  constructor(private readonly file?: string) {
    this.positions = file === undefined ? {} : readJsonFile<Record<string, string>>(file, {});
  }

  static key(functionName: string, shardId: string): string {
    return `${functionName}/${shardId}`;
  }

  get(key: string): string | undefined {
    return this.positions[key];
  }

  /** Records the position at once, so an acknowledged batch is never processed as new after a restart. */
  set(key: string, sequenceNumber: string): void {
    this.positions[key] = sequenceNumber;
    if (this.file !== undefined) writeJsonFile(this.file, this.positions);
  }
}
